import Foundation
import PlasticityBase
import PlasticityEngine
import PlasticityIO

/// Pattern generation as in NEST's e-prop example: a frozen Poisson input pattern must drive
/// the readout to reproduce a target made of sines of a few periods (mean squared error).
/// Each example has its own frozen pattern and target.
public struct PatternRegression: SequenceDataset {
    public struct Configuration: Sendable, Codable, Equatable {
        public var inputs = 20
        public var steps = 200
        public var periods: [Double] = [200, 100, 66.7, 40]
        public var inputProbability = 0.05
        public var trainingExamples = 64
        public var testExamples = 16
        public var seed: UInt64 = 2
        public init() {}
    }

    public let configuration: Configuration
    public var settings: [String: String] { settings(of: configuration) }
    public init(_ configuration: Configuration = .init()) throws {
        self.configuration = configuration
        try DatasetBounds.check(name, steps: configuration.steps, channels: configuration.inputs, training: configuration.trainingExamples,
                                test: configuration.testExamples)
        guard (0...1).contains(configuration.inputProbability), !configuration.periods.isEmpty, configuration.periods.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw PlasticityError.invalidConfiguration("pattern regression needs an input probability in [0, 1] and positive periods")
        }
    }

    public var name: String { "pattern regression" }
    public var inputCount: Int { configuration.inputs }
    public var outputCount: Int { 1 }
    public var steps: Int { configuration.steps }
    public func count(_ split: Split) -> Int { split == .training ? configuration.trainingExamples : configuration.testExamples }

    public func batch<T: KernelScalar>(_ split: Split, indices: [Int], as type: T.Type) throws -> SequenceBatch<T> {
        let c = configuration, batch = indices.count
        var inputs = [T](repeating: 0, count: c.steps * batch * c.inputs)
        var targets = [T](repeating: 0, count: c.steps * batch)
        for (b, index) in indices.enumerated() {
            var generator = SeededGenerator(seed: c.seed &+ (split == .training ? 0 : 1 << 32) &+ UInt64(index) &* 7919)
            let amplitudes = c.periods.map { _ in Double.random(in: 0.5...2, using: &generator) }
            let phases = c.periods.map { _ in Double.random(in: 0..<(2 * Double.pi), using: &generator) }
            for t in 0..<c.steps {
                for i in 0..<c.inputs where Double.random(in: 0..<1, using: &generator) < c.inputProbability {
                    inputs[(t * batch + b) * c.inputs + i] = 1
                }
                let value = zip(zip(c.periods, amplitudes), phases).map { $0.0.1 * Foundation.sin(2 * Double.pi * Double(t) / $0.0.0 + $0.1) }.reduce(0, +)
                targets[t * batch + b] = T(value / Double(c.periods.count))
            }
        }
        let loss = try Loss(.meanSquaredError, steps: c.steps, batch: batch, outputs: 1, targets: targets)
        return SequenceBatch(inputs: inputs, steps: c.steps, batch: batch, loss: loss)
    }

    public func accuracy<T: KernelScalar>(readouts: [T], batch: SequenceBatch<T>) -> Double? { nil }
}
