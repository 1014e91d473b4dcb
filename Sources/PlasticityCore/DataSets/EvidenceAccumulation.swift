import PlasticityBase
import PlasticityEngine
import PlasticityIO

/// The evidence (cue) accumulation task of Bellec et al. (2020): left and right cue
/// populations fire during a series of cues, a noise population fires throughout, and after a
/// delay a recall population asks for a decision: which side had more cues? The loss is
/// cross-entropy during the recall window. Sequences are generated from (seed, split, index),
/// so every run sees the same data.
public struct EvidenceAccumulation: SequenceDataset {
    public struct Configuration: Sendable, Codable, Equatable {
        /// Channels per population (left, right, recall, noise).
        public var channelsPerGroup = 10
        public var cues = 7
        public var cueSteps = 10
        public var pauseSteps = 5
        public var delaySteps = 50
        public var recallSteps = 15
        /// Spike probability per channel and step of an active cue or recall population.
        public var cueProbability = 0.4
        /// Spike probability per channel and step of the noise population.
        public var noiseProbability = 0.1
        public var trainingExamples = 2048
        public var testExamples = 512
        public var seed: UInt64 = 1
        public init() {}
    }

    public let configuration: Configuration
    public var settings: [String: String] { settings(of: configuration) }
    public init(_ configuration: Configuration = .init()) throws {
        guard configuration.cues > 0, configuration.cues % 2 == 1 else {
            throw PlasticityError.invalidConfiguration("evidence accumulation needs an odd number of cues so that there is no tie, got \(configuration.cues)")
        }
        guard configuration.channelsPerGroup > 0, configuration.cueSteps > 0, configuration.recallSteps > 0, configuration.delaySteps >= 0,
              configuration.pauseSteps >= 0 else {
            throw PlasticityError.invalidConfiguration("evidence accumulation needs positive channel counts and durations")
        }
        // Each part bounded before they are added up, so that the sum cannot overflow.
        let bound = DatasetBounds.maxSteps
        let parts = [configuration.cues, configuration.cueSteps, configuration.pauseSteps, configuration.delaySteps, configuration.recallSteps, configuration.channelsPerGroup]
        guard parts.allSatisfy({ $0 <= bound }) else {
            throw PlasticityError.invalidConfiguration("evidence accumulation: cues \(configuration.cues), cue steps \(configuration.cueSteps), pauses \(configuration.pauseSteps), "
                                                       + "delay \(configuration.delaySteps), recall \(configuration.recallSteps), channels per group \(configuration.channelsPerGroup); each must be at most \(bound)")
        }
        self.configuration = configuration
        try DatasetBounds.check(name, steps: steps, channels: inputCount, training: configuration.trainingExamples, test: configuration.testExamples)
    }

    public var name: String { "evidence accumulation" }
    public var inputCount: Int { 4 * configuration.channelsPerGroup }
    public var outputCount: Int { 2 }
    public var steps: Int {
        configuration.cues * (configuration.cueSteps + configuration.pauseSteps) + configuration.delaySteps + configuration.recallSteps
    }
    public func count(_ split: Split) -> Int { split == .training ? configuration.trainingExamples : configuration.testExamples }

    /// The cue sides (true: left) and inputs (T×I) of one example.
    func example(_ split: Split, _ index: Int) -> (left: [Bool], inputs: [Float]) {
        let c = configuration
        var generator = SeededGenerator(seed: c.seed &* 0x9E37_79B9 &+ (split == .training ? 0 : 0x5555_5555) &+ UInt64(index) &* 0x2545_F491)
        let left = (0..<c.cues).map { _ in Bool.random(using: &generator) }
        let channels = inputCount, group = c.channelsPerGroup
        var inputs = [Float](repeating: 0, count: steps * channels)
        let recallStart = steps - c.recallSteps
        for t in 0..<steps {
            var active: Int?
            let cueSlot = t / (c.cueSteps + c.pauseSteps)
            if cueSlot < c.cues, t % (c.cueSteps + c.pauseSteps) < c.cueSteps { active = left[cueSlot] ? 0 : 1 }
            if t >= recallStart { active = 2 }
            for channel in 0..<channels {
                let population = channel / group
                let probability = population == 3 ? c.noiseProbability : (population == active ? c.cueProbability : 0)
                if probability > 0, Double.random(in: 0..<1, using: &generator) < probability { inputs[t * channels + channel] = 1 }
            }
        }
        return (left, inputs)
    }

    public func batch<T: KernelScalar>(_ split: Split, indices: [Int], as type: T.Type) throws -> SequenceBatch<T> {
        let batch = indices.count, channels = inputCount, steps = self.steps
        var inputs = [T](repeating: 0, count: steps * batch * channels)
        var labels = [Int](repeating: 0, count: steps * batch)
        var mask = [T](repeating: 0, count: steps * batch)
        for (b, index) in indices.enumerated() {
            let example = example(split, index)
            let label = example.left.filter { $0 }.count * 2 > configuration.cues ? 0 : 1
            for t in 0..<steps {
                for i in 0..<channels { inputs[(t * batch + b) * channels + i] = T(example.inputs[t * channels + i]) }
                labels[t * batch + b] = label
                mask[t * batch + b] = t >= steps - configuration.recallSteps ? 1 : 0
            }
        }
        let loss = try Loss(.crossEntropyEveryStep, steps: steps, batch: batch, outputs: 2, labels: labels, mask: mask)
        return SequenceBatch(inputs: inputs, steps: steps, batch: batch, loss: loss)
    }

    /// Each sequence is its own example's, by index.
    public var makesSequencesIndependently: Bool { true }

    public func accuracy<T: KernelScalar>(readouts: [T], batch: SequenceBatch<T>) -> Double? {
        summedReadoutAccuracy(readouts: readouts, batch: batch)
    }
}
