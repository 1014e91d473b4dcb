import ArgumentParser
import Foundation
import PlasticityCore

/// The built-in tasks.
enum TaskName: String, ExpressibleByArgument, CaseIterable {
    case evidence, sine, shd
}

/// Which task to train on and how its data is made.
struct TaskOptions: ParsableArguments {
    @Option(help: "Task: evidence (cue accumulation), sine (pattern regression) or shd (Spiking Heidelberg Digits).")
    var task: TaskName = .evidence

    @Option(help: "SHD: the directory holding shd_train.npz and shd_test.npz.")
    var data: String?

    @Option(help: "SHD: time bins per sample.")
    var bins: Int = 100

    @Option(help: "SHD: bin width in seconds.")
    var binWidth: Double = 0.01

    @Option(help: "SHD: pool this many neighbouring channels into one input.")
    var pool: Int = 1

    @Option(help: "Generated tasks: training sequences.")
    var trainExamples: Int?

    @Option(help: "Generated tasks: test sequences.")
    var testExamples: Int?

    @Option(help: "Evidence accumulation: delay steps between the cues and the recall.")
    var delay: Int?

    func dataset() throws -> any SequenceDataset {
        switch task {
        case .evidence:
            var configuration = EvidenceAccumulation.Configuration()
            if let trainExamples { configuration.trainingExamples = trainExamples }
            if let testExamples { configuration.testExamples = testExamples }
            if let delay { configuration.delaySteps = delay }
            return try EvidenceAccumulation(configuration)
        case .sine:
            var configuration = PatternRegression.Configuration()
            if let trainExamples { configuration.trainingExamples = trainExamples }
            if let testExamples { configuration.testExamples = testExamples }
            return PatternRegression(configuration)
        case .shd:
            guard let data else { throw ValidationError("--task shd needs --data DIR with shd_train.npz and shd_test.npz (see Documentation/Training.md)") }
            var configuration = SpikingHeidelbergDigits.Configuration()
            configuration.steps = bins
            configuration.binWidth = binWidth
            configuration.channelPooling = pool
            return try SpikingHeidelbergDigits(directory: URL(fileURLWithPath: data), configuration: configuration)
        }
    }
}
