import Foundation

/// The Spiking Heidelberg Digits (Cramer et al. 2020): 700 input channels, 20 classes.
///
/// Read from the `.npz` form (one file per split, `shd_train.npz` and `shd_test.npz`):
/// `times` (float, seconds) and `units` (integers in 0..<700) of all spikes concatenated,
/// `offsets` (n+1 integers: sample k's spikes are offsets[k]..<offsets[k+1]) and `labels`
/// (n integers in 0..<20). `Scripts/shd_to_npz.py` converts the published HDF5 files.
/// Spikes are binned into `steps` bins of `binWidth` seconds (later spikes are dropped) and
/// optionally pooled over `channelPooling` neighbouring channels; a bin holds the spike count.
public struct SpikingHeidelbergDigits: SequenceDataset {
    public struct Configuration: Sendable, Codable, Equatable {
        public var steps = 100
        public var binWidth = 0.01
        public var channelPooling = 1
        public init() {}
    }

    public static let channels = 700
    public static let classes = 20

    /// One split's spikes.
    struct Samples {
        let times: [Double]
        let units: [Int]
        let offsets: [Int]
        let labels: [Int]
    }

    public let configuration: Configuration
    private let training: Samples
    private let testing: Samples

    /// Reads `shd_train.npz` and `shd_test.npz` from `directory`.
    public init(directory: URL, configuration: Configuration = .init()) throws {
        guard configuration.steps > 0, configuration.binWidth > 0, configuration.channelPooling > 0 else {
            throw PlasticityError.invalidConfiguration("SHD binning needs positive steps, bin width and channel pooling")
        }
        self.configuration = configuration
        training = try Self.read(directory.appendingPathComponent("shd_train.npz"))
        testing = try Self.read(directory.appendingPathComponent("shd_test.npz"))
    }

    static func read(_ url: URL) throws -> Samples {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw PlasticityError.malformedArray(name: url.lastPathComponent, reason: "not found at \(url.path); see Documentation/Training.md for how to get and convert SHD")
        }
        let arrays = try NumPyArchive.read(url)
        func array(_ name: String, floating: Bool) throws -> NumPyArray {
            guard let array = arrays[name] else { throw PlasticityError.missingArray(name: name, file: url.path) }
            guard array.shape.count == 1 else { throw PlasticityError.shapeMismatch(name: name, expected: "one dimension", found: "\(array.shape)") }
            let isFloat = array.dataType == .float32 || array.dataType == .float64
            guard isFloat == floating else {
                throw PlasticityError.malformedArray(name: name, reason: "has dtype \(array.dataType.rawValue), expected \(floating ? "float32 or float64" : "integers")")
            }
            return array
        }
        let times = try array("times", floating: true).doubles
        let units = try array("units", floating: false).integers(name: "units")
        let offsets = try array("offsets", floating: false).integers(name: "offsets")
        let labels = try array("labels", floating: false).integers(name: "labels")
        guard units.count == times.count else {
            throw PlasticityError.shapeMismatch(name: "units", expected: "[\(times.count)] like 'times'", found: "[\(units.count)]")
        }
        guard offsets.count == labels.count + 1, offsets.first == 0, offsets.last == times.count,
              zip(offsets, offsets.dropFirst()).allSatisfy({ $0 <= $1 }) else {
            throw PlasticityError.malformedArray(name: "offsets", reason: "must be \(labels.count + 1) non-decreasing values from 0 to \(times.count) (truncated file?)")
        }
        if let bad = units.first(where: { $0 < 0 || $0 >= channels }) {
            throw PlasticityError.malformedArray(name: "units", reason: "unit \(bad) is outside 0..<\(channels)")
        }
        if let bad = labels.first(where: { $0 < 0 || $0 >= classes }) {
            throw PlasticityError.malformedArray(name: "labels", reason: "label \(bad) is outside 0..<\(classes)")
        }
        if let bad = times.first(where: { !$0.isFinite || $0 < 0 }) {
            throw PlasticityError.malformedArray(name: "times", reason: "spike time \(bad) is not a finite non-negative number of seconds")
        }
        return Samples(times: times, units: units, offsets: offsets, labels: labels)
    }

    public var name: String { "Spiking Heidelberg Digits" }
    public var inputCount: Int { (Self.channels + configuration.channelPooling - 1) / configuration.channelPooling }
    public var outputCount: Int { Self.classes }
    public var steps: Int { configuration.steps }
    public func count(_ split: Split) -> Int { (split == .training ? training : testing).labels.count }

    /// The labels of a split.
    public func labels(_ split: Split) -> [Int] { (split == .training ? training : testing).labels }

    public func batch<T: KernelScalar>(_ split: Split, indices: [Int], as type: T.Type) throws -> SequenceBatch<T> {
        let samples = split == .training ? training : testing
        let batch = indices.count, channels = inputCount, steps = configuration.steps
        var inputs = [T](repeating: 0, count: steps * batch * channels)
        for (b, index) in indices.enumerated() {
            guard samples.labels.indices.contains(index) else {
                throw PlasticityError.invalidConfiguration("SHD \(split.rawValue) has \(samples.labels.count) samples, asked for index \(index)")
            }
            for spike in samples.offsets[index]..<samples.offsets[index + 1] {
                let bin = Int(samples.times[spike] / configuration.binWidth)
                guard bin < steps else { continue }
                inputs[(bin * batch + b) * channels + samples.units[spike] / configuration.channelPooling] += 1
            }
        }
        let loss = try Loss<T>(.crossEntropySummed, steps: steps, batch: batch, outputs: Self.classes, labels: indices.map { samples.labels[$0] })
        return SequenceBatch(inputs: inputs, steps: steps, batch: batch, loss: loss)
    }

    public func accuracy<T: KernelScalar>(readouts: [T], batch: SequenceBatch<T>) -> Double? {
        summedReadoutAccuracy(readouts: readouts, batch: batch)
    }
}
