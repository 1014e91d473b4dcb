import Foundation
import PlasticityBase
import PlasticityEngine
import PlasticityIO

/// Which part of a dataset.
public enum Split: String, Sendable, Codable {
    case training, test
}


/// A source of labelled or target sequences. Implement it to train on your own data: the
/// trainer asks only for batches by index, so data can be generated, read or streamed.
public protocol SequenceDataset {
    var name: String { get }
    var inputCount: Int { get }
    var outputCount: Int { get }
    /// Time steps per sequence.
    var steps: Int { get }
    func count(_ split: Split) -> Int
    /// The sequences `indices` of `split`, deterministic for the same indices.
    func batch<T: KernelScalar>(_ split: Split, indices: [Int], as type: T.Type) throws -> SequenceBatch<T>
    /// The training sequences `indices` as they are trained on: augmented, if the data set is
    /// configured to be, by draws fixed by `seed` and each sequence's index (the trainer
    /// gives one seed per epoch); otherwise `batch(.training, …)`.
    func trainingBatch<T: KernelScalar>(indices: [Int], seed: UInt64, as type: T.Type) throws -> SequenceBatch<T>
    /// How well `readouts` (T×B×C) solve the batch: for classification the fraction of
    /// sequences whose decision is right; nil for regression.
    func accuracy<T: KernelScalar>(readouts: [T], batch: SequenceBatch<T>) -> Double?
    /// What determines the samples (sizes, generator settings, seeds, files), by name: a
    /// checkpoint records it, and a resume with other data is refused naming the difference.
    var settings: [String: String] { get }
    /// Bytes the data set holds in memory between batches (0 for tasks generated per batch):
    /// reported beside the learning rule's memory.
    var residentBytes: Int { get }
    /// Whether a batch's sequence b depends on indices[b] alone (and, in training batches, the
    /// seed): batches put side by side (`SequenceBatch.concatenating`) are then the batch of
    /// their indices together, and the trainer may make a batch in parts on several threads.
    /// False unless a data set says so.
    var makesSequencesIndependently: Bool { get }
    /// The sequences `indices` of `split` with their targets (labels, masks: the loss `batch`
    /// and `trainingBatch` give them) but no inputs — zeros — or nil if the data set cannot
    /// tell a sequence's targets without making it. A process that computes only some of a
    /// batch's shards (an MPI rank) makes the rest this way: their inputs are never read, but
    /// the loss and the accuracy count every sequence. Only asked of data sets that make
    /// sequences independently. Nil unless a data set says otherwise.
    func targetsOnly<T: KernelScalar>(_ split: Split, indices: [Int], as type: T.Type) throws -> SequenceBatch<T>?
}

extension SequenceDataset {
    public var settings: [String: String] { [:] }
    public var residentBytes: Int { 0 }
    public var makesSequencesIndependently: Bool { false }
    public func targetsOnly<T: KernelScalar>(_ split: Split, indices: [Int], as type: T.Type) throws -> SequenceBatch<T>? { nil }
    public func trainingBatch<T: KernelScalar>(indices: [Int], seed: UInt64, as type: T.Type) throws -> SequenceBatch<T> {
        try batch(.training, indices: indices, as: type)
    }

    /// `configuration`'s fields by name, as JSON values: what most datasets' `settings` are.
    public func settings<C: Encodable>(of configuration: C) -> [String: String] {
        SettingsTable.flatten(configuration)
    }
}

/// Nested `Encodable` values as one flat table of dotted names (`populations[0].size`) and
/// JSON-formatted values.
public enum SettingsTable {
    public static func flatten<C: Encodable>(_ value: C) -> [String: String] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(value), let root = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else { return [:] }
        var table: [String: String] = [:]
        func visit(_ node: Any, _ path: String) {
            if let object = node as? [String: Any] {
                for (key, member) in object { visit(member, path.isEmpty ? key : "\(path).\(key)") }
            } else if let list = node as? [Any], list.contains(where: { $0 is [String: Any] }) {
                for (index, member) in list.enumerated() { visit(member, "\(path)[\(index)]") }
            } else if let data = try? JSONSerialization.data(withJSONObject: node, options: [.fragmentsAllowed, .sortedKeys]) {
                table[path] = String(decoding: data, as: UTF8.self)
            }
        }
        visit(root, "")
        return table
    }

    /// The names whose values differ between `old` and `new`, each as `name old → new`, sorted.
    public static func differences(_ old: [String: String], _ new: [String: String]) -> [String] {
        Set(old.keys).union(new.keys).sorted().compactMap { key in
            old[key] == new[key] ? nil : "\(key) \(old[key] ?? "(none)") → \(new[key] ?? "(none)")"
        }
    }
}

extension SequenceDataset {
    /// Classification accuracy by the readout summed over the steps the loss weighs (the
    /// recall window, or every step), for cross-entropy losses.
    public func summedReadoutAccuracy<T: KernelScalar>(readouts: [T], batch: SequenceBatch<T>) -> Double? {
        let loss = batch.loss
        guard loss.kind != .meanSquaredError else { return nil }
        let outputs = loss.outputs, readouts = ScalarLoops.doubles(readouts)
        var correct = 0
        for b in 0..<batch.batch {
            var sums = [Double](repeating: 0, count: outputs)
            for t in 0..<batch.steps where loss.reads(step: t, sequence: b) {
                for c in 0..<outputs { sums[c] += readouts[(t * batch.batch + b) * outputs + c] }
            }
            let decision = sums.indices.max { sums[$0] < sums[$1] }!
            if decision == loss.label(sequence: b, step: batch.steps - 1) { correct += 1 }
        }
        return Double(correct) / Double(batch.batch)
    }
}

/// The sizes a data set may have, checked before anything is allocated: a flag or a file
/// asking for 10⁸ delay steps or no samples at all is refused, naming the sizes.
public enum DatasetBounds {
    public static let maxSteps = 1 << 20, maxChannels = 1 << 20, maxSamples = 1 << 28

    /// Throws unless every size is within the bounds and each split has a sample.
    public static func check(_ name: String, steps: Int, channels: Int, training: Int, test: Int) throws {
        guard (1...maxSteps).contains(steps), (1...maxChannels).contains(channels) else {
            throw PlasticityError.invalidConfiguration("\(name): sequences of \(steps) steps × \(channels) channels; each must be 1…\(maxSteps)")
        }
        guard (1...maxSamples).contains(training), (1...maxSamples).contains(test) else {
            throw PlasticityError.invalidConfiguration("\(name): \(training) training and \(test) test samples; each split needs 1…\(maxSamples)")
        }
    }
}
