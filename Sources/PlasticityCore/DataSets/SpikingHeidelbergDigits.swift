import Foundation
import PlasticityBase
import PlasticityEngine
import PlasticityIO

/// The Spiking Heidelberg Digits (Cramer et al. 2020): 700 input channels, 20 classes.
///
/// Each split is read from the published HDF5 file (`shd_train.h5`, `shd_test.h5`:
/// `spikes/times` and `spikes/units`, one variable-length vector per sample, and `labels`),
/// which needs the optional libhdf5 (see `HDF5File`), or from the `.npz` form
/// (`shd_train.npz`, `shd_test.npz`): `times` (float, seconds) and `units` (integers in
/// 0..<700) of all spikes concatenated, `offsets` (n+1 integers: sample k's spikes are
/// offsets[k]..<offsets[k+1]) and `labels` (n integers in 0..<20); `Scripts/shd_to_npz.py`
/// converts one form into the other. The `.npz` file is used when both are present.
/// Spikes are binned into `steps` bins of `binWidth` seconds (later spikes are dropped) and
/// optionally pooled over `channelPooling` neighbouring channels; a bin holds the spike count.
/// The binning is done once, when the files are read: each sample is kept as its non-zero
/// cells (bin, channel) and their counts, 6 bytes per cell, and a batch is filled from them.
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

        /// Itself, if every unit, label and time is in range.
        func validated() throws -> Samples {
            if let bad = units.first(where: { $0 < 0 || $0 >= channels }) {
                throw PlasticityError.malformedArray(name: "units", reason: "unit \(bad) is outside 0..<\(channels)")
            }
            if let bad = labels.first(where: { $0 < 0 || $0 >= classes }) {
                throw PlasticityError.malformedArray(name: "labels", reason: "label \(bad) is outside 0..<\(classes)")
            }
            if let bad = times.first(where: { !$0.isFinite || $0 < 0 }) {
                throw PlasticityError.malformedArray(name: "times", reason: "spike time \(bad) is not a finite non-negative number of seconds")
            }
            return self
        }
    }

    /// One split binned: per sample its non-zero cells (bin · inputCount + channel, ascending)
    /// and their spike counts.
    struct Binned {
        let cells: [UInt32]
        let counts: [UInt16]
        /// Sample k's cells are offsets[k]..<offsets[k+1].
        let offsets: [Int]
        let labels: [Int]

        init(_ samples: Samples, configuration: Configuration, channels: Int) throws {
            var cells: [UInt32] = [], counts: [UInt16] = [], offsets = [0]
            var sample: [Int] = []
            for k in samples.labels.indices {
                sample.removeAll(keepingCapacity: true)
                for spike in samples.offsets[k]..<samples.offsets[k + 1] {
                    // Compared as a Double first: a time of 1e30 s, or a tiny bin width, is a
                    // late spike, not an overflow.
                    let position = samples.times[spike] / configuration.binWidth
                    guard position < Double(configuration.steps) else { continue }
                    sample.append(Int(position) * channels + samples.units[spike] / configuration.channelPooling)
                }
                sample.sort()
                var start = 0
                while start < sample.count {
                    var end = start + 1
                    while end < sample.count, sample[end] == sample[start] { end += 1 }
                    guard end - start <= Int(UInt16.max) else {
                        throw PlasticityError.malformedArray(name: "times", reason: "sample \(k) has \(end - start) spikes in one bin and channel (more than \(UInt16.max))")
                    }
                    cells.append(UInt32(sample[start]))
                    counts.append(UInt16(end - start))
                    start = end
                }
                offsets.append(cells.count)
            }
            self.cells = cells
            self.counts = counts
            self.offsets = offsets
            labels = samples.labels
        }

        var bytes: Int { cells.count * 6 + (offsets.count + labels.count) * MemoryLayout<Int>.stride }
    }

    public let configuration: Configuration
    /// The binning, and the sizes of the splits read (not their paths: the same data may move).
    public var settings: [String: String] {
        settings(of: configuration).merging(["trainingSamples": "\(count(.training))", "testSamples": "\(count(.test))"]) { first, _ in first }
    }
    private let training: Binned
    private let testing: Binned

    /// Reads the training and test splits from `directory` (`shd_train` and `shd_test`, each
    /// `.npz`, or `.h5` when there is no `.npz`), or from files named by `trainingFile` and
    /// `testFile` (`.npz` or `.h5`), which take precedence over the directory's.
    public init(directory: URL?, trainingFile: URL? = nil, testFile: URL? = nil, configuration: Configuration = .init()) throws {
        guard configuration.steps > 0, configuration.binWidth > 0, configuration.channelPooling > 0 else {
            throw PlasticityError.invalidConfiguration("SHD binning needs positive steps, bin width and channel pooling")
        }
        self.configuration = configuration
        let channels = (Self.channels + configuration.channelPooling - 1) / configuration.channelPooling
        guard configuration.steps <= Int(UInt32.max) / channels else {
            throw PlasticityError.invalidConfiguration("SHD binning into \(configuration.steps) bins of \(channels) channels is more cells than a sample can index")
        }
        training = try Binned(trainingFile.map(Self.read(file:)) ?? Self.read(split: "shd_train", in: directory), configuration: configuration, channels: channels)
        testing = try Binned(testFile.map(Self.read(file:)) ?? Self.read(split: "shd_test", in: directory), configuration: configuration, channels: channels)
    }

    /// Every form a split is read from, for help and errors.
    public static let acceptedForms = "shd_train.npz or shd_train.h5 and shd_test.npz or shd_test.h5 in --data DIR, or files of either form named by --train-file and --test-file"

    static func read(split: String, in directory: URL?) throws -> Samples {
        guard let directory else {
            throw PlasticityError.invalidConfiguration("no \(split) data: give \(acceptedForms)")
        }
        let npz = directory.appendingPathComponent(split + ".npz"), h5 = directory.appendingPathComponent(split + ".h5")
        if FileManager.default.fileExists(atPath: npz.path) { return try readNumPy(npz) }
        if FileManager.default.fileExists(atPath: h5.path) { return try readHDF5(h5) }
        throw PlasticityError.malformedArray(name: split, reason: "neither \(npz.lastPathComponent) nor \(h5.lastPathComponent) is in \(directory.path) "
                                             + "(SHD is read from \(acceptedForms)); see Documentation/Training.md for how to get SHD")
    }

    /// A split from a file named by the user: `.npz` or `.h5` by its extension.
    static func read(file: URL) throws -> Samples {
        switch file.pathExtension.lowercased() {
        case "npz": return try readNumPy(file)
        case "h5", "hdf5": return try readHDF5(file)
        default:
            throw PlasticityError.invalidConfiguration("\(file.path): SHD files are .npz or .h5 (HDF5), not '.\(file.pathExtension)'")
        }
    }

    /// The `.npz` form.
    static func readNumPy(_ url: URL) throws -> Samples {
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
        return try Samples(times: times, units: units, offsets: offsets, labels: labels).validated()
    }

    /// The published layout: one variable-length vector of times and one of units per sample.
    static func readHDF5(_ url: URL) throws -> Samples {
        let file = try HDF5File(path: url.path)
        let (times, timeLengths) = try file.raggedDoubles("spikes/times")
        let (units, unitLengths) = try file.raggedIntegers("spikes/units")
        let labels = try file.integers("labels")
        guard timeLengths.count == labels.count, unitLengths.count == labels.count else {
            throw PlasticityError.malformedHDF5(path: url.path, reason: "has \(labels.count) labels but \(timeLengths.count) spike-time and \(unitLengths.count) unit vectors")
        }
        if let sample = timeLengths.indices.first(where: { timeLengths[$0] != unitLengths[$0] }) {
            throw PlasticityError.malformedHDF5(path: url.path, reason: "sample \(sample) has \(timeLengths[sample]) spike times but \(unitLengths[sample]) units")
        }
        let offsets = timeLengths.reduce(into: [0]) { $0.append($0.last! + $1) }
        return try Samples(times: times, units: units, offsets: offsets, labels: labels).validated()
    }

    public var name: String { "Spiking Heidelberg Digits" }
    public var inputCount: Int { (Self.channels + configuration.channelPooling - 1) / configuration.channelPooling }
    public var outputCount: Int { Self.classes }
    public var steps: Int { configuration.steps }
    public func count(_ split: Split) -> Int { (split == .training ? training : testing).labels.count }

    /// Bytes the binned samples of both splits occupy.
    public var storedBytes: Int { training.bytes + testing.bytes }

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
            for entry in samples.offsets[index]..<samples.offsets[index + 1] {
                let (bin, channel) = Int(samples.cells[entry]).quotientAndRemainder(dividingBy: channels)
                inputs[(bin * batch + b) * channels + channel] = T(Int(samples.counts[entry]))
            }
        }
        let loss = try Loss<T>(.crossEntropySummed, steps: steps, batch: batch, outputs: Self.classes, labels: indices.map { samples.labels[$0] })
        return SequenceBatch(inputs: inputs, steps: steps, batch: batch, loss: loss)
    }

    public func accuracy<T: KernelScalar>(readouts: [T], batch: SequenceBatch<T>) -> Double? {
        summedReadoutAccuracy(readouts: readouts, batch: batch)
    }
}
