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

    @Option(help: "SHD: the directory holding shd_train and shd_test, each .npz or .h5 (the published HDF5 files; needs the optional libhdf5).")
    var data: String?

    @Option(help: "SHD: the training split's file (.npz or .h5), instead of DIR/shd_train.")
    var trainFile: String?

    @Option(help: "SHD: the test split's file (.npz or .h5), instead of DIR/shd_test.")
    var testFile: String?

    @Option(help: "SHD: time bins per sample.")
    var bins: Int = 100

    @Option(help: "SHD: bin width in seconds.")
    var binWidth: Double = 0.01

    @Option(help: "SHD: pool this many neighbouring channels into one input.")
    var pool: Int = 1

    @Option(help: "SHD augmentation of training batches: move each sample by a random whole number of bins in -N…N (off: 0).")
    var timeShift: Int = 0

    @Option(help: "SHD augmentation of training batches: move each sample's channels by a random whole number of inputs in -N…N (off: 0).")
    var channelShift: Int = 0

    @Option(help: "Generated tasks: training sequences.")
    var trainExamples: Int?

    @Option(help: "Generated tasks: test sequences.")
    var testExamples: Int?

    @Option(help: "Evidence accumulation: delay steps between the cues and the recall.")
    var delay: Int?

    func validate() throws {
        if task != .shd, timeShift != 0 || channelShift != 0 {
            throw ValidationError("--time-shift and --channel-shift augment SHD data; --task \(task.rawValue) has none to augment")
        }
    }

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
            return try PatternRegression(configuration)
        case .shd:
            guard data != nil || (trainFile != nil && testFile != nil) else {
                throw ValidationError("--task shd needs \(SpikingHeidelbergDigits.acceptedForms) (see Documentation/Training.md)")
            }
            var configuration = SpikingHeidelbergDigits.Configuration()
            configuration.steps = bins
            configuration.binWidth = binWidth
            configuration.channelPooling = pool
            configuration.augmentation.timeShift = timeShift
            configuration.augmentation.channelShift = channelShift
            return try SpikingHeidelbergDigits(directory: data.map { URL(fileURLWithPath: $0) }, trainingFile: trainFile.map { URL(fileURLWithPath: $0) },
                                               testFile: testFile.map { URL(fileURLWithPath: $0) }, configuration: configuration,
                                               screenHDF5: IsolatedHDF5Screen().check)
        }
    }
}
