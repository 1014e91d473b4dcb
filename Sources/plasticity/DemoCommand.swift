import ArgumentParser
import Dispatch
import Foundation
import PlasticityCore

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The embedded default: train ALIF networks on evidence accumulation with e-prop and with BPTT, side by side.",
        discussion: "Needs no download. Both runs train at once, one per core, from the same initial weights and data; the table compares their test accuracy, time and peak storage.")

    @Option(help: "Hidden ALIF neurons (per layer).")
    var hidden: Int = 40

    @Option(help: "Epochs.")
    var epochs: Int = 8

    @Option(help: "Training sequences (test: a quarter as many).")
    var trainExamples: Int = 512

    @OptionGroup var graph: GraphOptions
    @OptionGroup var pluginOptions: PluginOptions

    func run() throws {
        var task = EvidenceAccumulation.Configuration()
        task.trainingExamples = trainExamples
        task.testExamples = Swift.max(32, trainExamples / 4)
        let dataset = try EvidenceAccumulation(task)
        let shape = NetworkShape(inputs: dataset.inputCount, hidden: hidden, outputs: 2, recurrent: true, bias: true)
        let network = try graph.build(model: "ALIF", settings: PopulationSettings(sources: ["tauAdaptation": .constant(200), "beta": .constant(1.0)]),
                                      registry: try pluginOptions.loadRegistry(), shape: shape)
        print("Evidence accumulation (Bellec et al. 2020): 7 cues, \(task.delaySteps)-step delay, recall; \(dataset.steps) steps per trial")
        print("network: \(NetworkSummary(network).description); \(trainExamples) training trials, \(epochs) epochs, Adam")
        print("training with e-prop and BPTT at once…")
        let rules: [LearningRuleKind] = [.eprop, .bptt]
        var outcomes = [Result<(Trainer, Double), Error>?](repeating: nil, count: rules.count)
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: rules.count) { index in
            let result = Result { () throws -> (Trainer, Double) in
                var configuration = TrainingConfiguration()
                configuration.rule = rules[index]
                configuration.epochs = epochs
                configuration.batchSize = 32
                configuration.learningRate = 1e-2
                configuration.rateRegularization = 0.5
                configuration.targetRate = 0.02
                let trainer = try Trainer(network: network, dataset: dataset, configuration: configuration, checkpoint: nil, resume: false)
                let start = Date()
                try trainer.run { event in
                    if case .epoch(let metrics) = event {
                        lock.withLock {
                            print(String(format: "  %-6@ epoch %d: test accuracy %.1f%%", rules[index].rawValue, metrics.epoch, (metrics.testAccuracy ?? 0) * 100))
                        }
                    }
                }
                return (trainer, Date().timeIntervalSince(start))
            }
            lock.withLock { outcomes[index] = result }
        }
        print("")
        print("rule    test accuracy   train accuracy   time      peak storage   exact here")
        for (rule, outcome) in zip(rules, outcomes) {
            let (trainer, seconds) = try outcome!.get()
            let last = trainer.state.history.last!
            let exact = Exactness.of(rule, network: network).isExact
            print(String(format: "%-6@  %12.1f%%  %14.1f%%  %7.1f s  %13@   %@", rule.rawValue, (last.testAccuracy ?? 0) * 100,
                         (last.trainingAccuracy ?? 0) * 100, seconds, MemorySize.format(trainer.peakStorageBytes), exact ? "yes" : "no"))
        }
        print("chance is 50%. e-prop learns online with memory independent of the trial length; BPTT stores every step.")
    }
}
