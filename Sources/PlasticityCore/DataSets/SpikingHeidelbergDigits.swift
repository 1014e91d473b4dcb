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
///
/// An uncompressed `.npz` (`numpy.savez`, as the script writes it) is read a batch at a time
/// from the file: memory holds only each sample's offset and label (`StoredEvents`). An HDF5
/// file or a compressed `.npz` is binned once when read and kept as each sample's non-zero
/// cells, 6 bytes per cell (`BinnedEvents`). Both give the same batches, bit for bit.
public struct SpikingHeidelbergDigits: SequenceDataset {
    public struct Configuration: Sendable, Codable, Equatable {
        public var steps = 100
        public var binWidth = 0.01
        public var channelPooling = 1
        public var augmentation = Augmentation()
        public init() {}
    }

    /// Augmentation of training batches (off by default), drawn per sample and epoch: the
    /// binned raster moved by a whole number of bins in time and of inputs in frequency, the
    /// random shifts in time and of channel IDs (a shift in frequency) that SNN work on SHD
    /// trains with. What moves out of the raster is dropped.
    public struct Augmentation: Sendable, Codable, Equatable {
        /// Each sample moves by a uniform draw in −timeShift…timeShift bins.
        public var timeShift = 0
        /// Each sample moves by a uniform draw in −channelShift…channelShift inputs (after pooling).
        public var channelShift = 0
        public init() {}

        var isOff: Bool { timeShift == 0 && channelShift == 0 }
    }

    public static let channels = 700
    public static let classes = 20

    /// One split as batches read it.
    enum Events {
        case binned(BinnedEvents)
        case stored(StoredEvents)

        var labels: [Int] {
            switch self {
            case .binned(let events): return events.labels
            case .stored(let events): return events.labels
            }
        }

        var bytes: Int {
            switch self {
            case .binned(let events): return events.bytes
            case .stored(let events): return events.bytes
            }
        }
    }

    public let configuration: Configuration
    /// The binning, and the sizes of the splits read (not their paths: the same data may move).
    public var settings: [String: String] {
        settings(of: configuration).merging(["trainingSamples": "\(count(.training))", "testSamples": "\(count(.test))"]) { first, _ in first }
    }
    private let binning: SpikeBinning
    private let training: Events
    private let testing: Events

    /// Reads the training and test splits from `directory` (`shd_train` and `shd_test`, each
    /// `.npz`, or `.h5` when there is no `.npz`), or from files named by `trainingFile` and
    /// `testFile` (`.npz` or `.h5`), which take precedence over the directory's.
    /// - Parameter screenHDF5: called with each HDF5 file before this process opens it with
    ///   libhdf5 (the tool reads it first in a child process, since a damaged file can crash
    ///   the library); it throws to refuse the file.
    public init(directory: URL?, trainingFile: URL? = nil, testFile: URL? = nil, configuration: Configuration = .init(),
                screenHDF5: ((URL) throws -> Void)? = nil) throws {
        guard configuration.steps > 0, configuration.binWidth > 0, configuration.channelPooling > 0 else {
            throw PlasticityError.invalidConfiguration("SHD binning needs positive steps, bin width and channel pooling")
        }
        self.configuration = configuration
        binning = SpikeBinning(steps: configuration.steps, binWidth: configuration.binWidth, pooling: configuration.channelPooling, channels: Self.channels)
        let channels = binning.pooledChannels
        guard configuration.steps <= Int(UInt32.max) / channels else {
            throw PlasticityError.invalidConfiguration("SHD binning into \(configuration.steps) bins of \(channels) channels is more cells than a sample can index")
        }
        let augmentation = configuration.augmentation
        guard (0..<configuration.steps).contains(augmentation.timeShift), (0..<channels).contains(augmentation.channelShift) else {
            throw PlasticityError.invalidConfiguration("SHD augmentation shifts must be at least 0 and less than the \(configuration.steps) bins and \(channels) inputs, "
                                                       + "got \(augmentation.timeShift) bins and \(augmentation.channelShift) inputs")
        }
        training = try Self.read(try trainingFile ?? Self.file(split: "shd_train", in: directory), binning: binning, screenHDF5: screenHDF5)
        testing = try Self.read(try testFile ?? Self.file(split: "shd_test", in: directory), binning: binning, screenHDF5: screenHDF5)
    }

    /// Every form a split is read from, for help and errors.
    public static let acceptedForms = "shd_train.npz or shd_train.h5 and shd_test.npz or shd_test.h5 in --data DIR, or files of either form named by --train-file and --test-file"

    /// The file of `split` in `directory`: its `.npz`, else its `.h5`.
    static func file(split: String, in directory: URL?) throws -> URL {
        guard let directory else {
            throw PlasticityError.invalidConfiguration("no \(split) data: give \(acceptedForms)")
        }
        let npz = directory.appendingPathComponent(split + ".npz"), h5 = directory.appendingPathComponent(split + ".h5")
        if FileManager.default.fileExists(atPath: npz.path) { return npz }
        if FileManager.default.fileExists(atPath: h5.path) { return h5 }
        throw PlasticityError.malformedArray(name: split, reason: "neither \(npz.lastPathComponent) nor \(h5.lastPathComponent) is in \(directory.path) "
                                             + "(SHD is read from \(acceptedForms)); see Documentation/Training.md for how to get SHD")
    }

    /// A split's file, `.npz` or `.h5` by its extension.
    static func read(_ file: URL, binning: SpikeBinning, screenHDF5: ((URL) throws -> Void)?) throws -> Events {
        switch file.pathExtension.lowercased() {
        case "npz":
            if let stored = try StoredEvents(url: file, channels: channels, classes: classes) { return .stored(stored) }
            return .binned(try readCompressedNumPy(file, binning: binning))
        case "h5", "hdf5":
            try screenHDF5?(file)
            return .binned(try readHDF5(file, binning: binning))
        default:
            throw PlasticityError.invalidConfiguration("\(file.path): SHD files are .npz or .h5 (HDF5), not '.\(file.pathExtension)'")
        }
    }

    /// The `.npz` form with compressed members, extracted whole.
    static func readCompressedNumPy(_ url: URL, binning: SpikeBinning) throws -> BinnedEvents {
        let arrays = try NumPyArchive.read(url)
        func array(_ name: String, floating: Bool) throws -> NumPyArray {
            guard let array = arrays[name] else { throw PlasticityError.missingArray(name: name, file: url.path) }
            guard array.shape.count == 1 else { throw PlasticityError.shapeMismatch(name: name, expected: "one dimension", found: "\(array.shape)") }
            try SpikeEventsChecks.check(type: array.dataType, of: name, floating: floating)
            return array
        }
        let times = try array("times", floating: true).doubles
        let units = try array("units", floating: false).doubles
        let offsets = try array("offsets", floating: false).integers(name: "offsets")
        let labels = try array("labels", floating: false).integers(name: "labels")
        guard units.count == times.count else {
            throw PlasticityError.shapeMismatch(name: "units", expected: "[\(times.count)] like 'times'", found: "[\(units.count)]")
        }
        try SpikeEventsChecks.check(offsets: offsets, labels: labels, spikes: times.count, classes: classes)
        return try BinnedEvents(times: times, units: units, spikeOffsets: offsets, labels: labels, binning: binning, source: url.path)
    }

    /// The published layout: one variable-length vector of times and one of units per sample.
    static func readHDF5(_ url: URL, binning: SpikeBinning) throws -> BinnedEvents {
        let (times, units, offsets, labels) = try readHDF5Arrays(url)
        return try BinnedEvents(times: times, units: units.map(Double.init), spikeOffsets: offsets, labels: labels, binning: binning, source: url.path)
    }

    /// Every array of an HDF5 split, checked for consistency: what libhdf5 reads, whatever the
    /// binning. A separate process calls it to find out whether a file crashes libhdf5.
    public static func readHDF5Arrays(_ url: URL) throws -> (times: [Double], units: [Int], offsets: [Int], labels: [Int]) {
        let file = try HDF5File(path: url.path)
        let (times, timeLengths) = try file.raggedDoubles("spikes/times", floatingPoint: true)
        let (units, unitLengths) = try file.raggedIntegers("spikes/units")
        let labels = try file.integers("labels")
        guard timeLengths.count == labels.count, unitLengths.count == labels.count else {
            throw PlasticityError.malformedHDF5(path: url.path, reason: "has \(labels.count) labels but \(timeLengths.count) spike-time and \(unitLengths.count) unit vectors")
        }
        if let sample = timeLengths.indices.first(where: { timeLengths[$0] != unitLengths[$0] }) {
            throw PlasticityError.malformedHDF5(path: url.path, reason: "sample \(sample) has \(timeLengths[sample]) spike times but \(unitLengths[sample]) units")
        }
        let offsets = timeLengths.reduce(into: [0]) { $0.append($0.last! + $1) }
        try SpikeEventsChecks.check(offsets: offsets, labels: labels, spikes: times.count, classes: classes)
        return (times, units, offsets, labels)
    }

    public var name: String { "Spiking Heidelberg Digits" }
    public var inputCount: Int { binning.pooledChannels }
    public var outputCount: Int { Self.classes }
    public var steps: Int { configuration.steps }
    public func count(_ split: Split) -> Int { (split == .training ? training : testing).labels.count }

    /// Bytes the splits hold in memory: binned cells, or only offsets and labels for splits
    /// read from their files a batch at a time.
    public var residentBytes: Int { training.bytes + testing.bytes }

    /// Each sample is binned on its own, its augmentation drawn from the seed and its index.
    public var makesSequencesIndependently: Bool { true }

    /// The labels of a split.
    public func labels(_ split: Split) -> [Int] { (split == .training ? training : testing).labels }

    // Specialised for the trainer's Float: called through the protocol from another module,
    // a generic batch is otherwise run unspecialised, a witness call per spike.
    @_specialize(exported: true, where T == Float)
    public func batch<T: KernelScalar>(_ split: Split, indices: [Int], as type: T.Type) throws -> SequenceBatch<T> {
        try batch(split, indices: indices, shifts: { _ in .none })
    }

    // Specialised for the trainer's Float: called through the protocol from another module,
    // a generic batch is otherwise run unspecialised, a witness call per spike.
    @_specialize(exported: true, where T == Float)
    public func trainingBatch<T: KernelScalar>(indices: [Int], seed: UInt64, as type: T.Type) throws -> SequenceBatch<T> {
        let augmentation = configuration.augmentation
        guard !augmentation.isOff else { return try batch(.training, indices: indices, as: type) }
        return try batch(.training, indices: indices) { index in
            var generator = SeededGenerator(seed: seed ^ (UInt64(index) &* 0x9E37_79B9_7F4A_7C15))
            return SpikeBinning.Shift(bins: Int.random(in: -augmentation.timeShift...augmentation.timeShift, using: &generator),
                                      channels: Int.random(in: -augmentation.channelShift...augmentation.channelShift, using: &generator))
        }
    }

    /// Labels are all a sequence's targets: a rank that does not compute a sequence reads its
    /// label and none of its spikes.
    public func targetsOnly<T: KernelScalar>(_ split: Split, indices: [Int], as type: T.Type) throws -> SequenceBatch<T>? {
        let steps = configuration.steps
        return SequenceBatch(inputs: [T](repeating: 0, count: steps * indices.count * inputCount), steps: steps, batch: indices.count,
                             loss: try loss(split, indices: indices))
    }

    /// The loss of the samples `indices` of `split`: cross-entropy of the readouts summed over time against their labels.
    private func loss<T: KernelScalar>(_ split: Split, indices: [Int]) throws -> Loss<T> {
        let labels = self.labels(split)
        for index in indices where !labels.indices.contains(index) {
            throw PlasticityError.invalidConfiguration("SHD \(split.rawValue) has \(labels.count) samples, asked for index \(index)")
        }
        return try Loss<T>(.crossEntropySummed, steps: configuration.steps, batch: indices.count, outputs: Self.classes, labels: indices.map { labels[$0] })
    }

    /// The batch of `indices`, each sample's raster moved by `shifts(index)`.
    private func batch<T: KernelScalar>(_ split: Split, indices: [Int], shifts: (Int) -> SpikeBinning.Shift) throws -> SequenceBatch<T> {
        let events = split == .training ? training : testing
        // Checks the indices before the raster is filled.
        let loss: Loss<T> = try loss(split, indices: indices)
        let batch = indices.count, steps = configuration.steps
        let inputs = try [T](unsafeUninitializedCapacity: steps * batch * inputCount) { cells, initialized in
            // The protocol's witness runs this function unspecialised, a witness call per spike;
            // the raster is therefore filled by a specialisation chosen here.
            let raw = UnsafeMutableRawBufferPointer(cells)
            if T.self == Float.self {
                try fill(raw.bindMemory(to: Float.self), events: events, indices: indices, shifts: shifts)
            } else if T.self == Double.self {
                try fill(raw.bindMemory(to: Double.self), events: events, indices: indices, shifts: shifts)
            } else {
                try fill(cells, events: events, indices: indices, shifts: shifts)
            }
            initialized = cells.count
        }
        return SequenceBatch(inputs: inputs, steps: steps, batch: batch, loss: loss)
    }

    /// Fills a time-major raster (uninitialised) with the spike counts of `indices` (sequence b:
    /// sample indices[b]). Each sample is counted in a raster of its own, small enough to stay
    /// in cache, and copied in by rows: counted straight into the batch, whose rows are B·I
    /// values apart, most spikes missed the cache.
    private func fill<T: KernelScalar>(_ cells: UnsafeMutableBufferPointer<T>, events: Events, indices: [Int], shifts: (Int) -> SpikeBinning.Shift) throws {
        let steps = configuration.steps, width = inputCount, batch = indices.count
        let sample = UnsafeMutableBufferPointer<T>.allocate(capacity: steps * width)
        defer { sample.deallocate() }
        var timeBytes: [UInt8] = [], unitBytes: [UInt8] = []
        for (b, index) in indices.enumerated() {
            let shift = shifts(index)
            sample.initialize(repeating: 0)
            switch events {
            case .binned(let binned): binned.add(sample: index, into: sample, sequence: 0, batch: 1, binning: binning, shift: shift)
            case .stored(let stored):
                try stored.add(sample: index, into: sample, sequence: 0, batch: 1, binning: binning, shift: shift, timeBytes: &timeBytes, unitBytes: &unitBytes)
            }
            for t in 0..<steps {
                (cells.baseAddress! + (t * batch + b) * width).initialize(from: sample.baseAddress! + t * width, count: width)
            }
        }
    }

    public func accuracy<T: KernelScalar>(readouts: [T], batch: SequenceBatch<T>) -> Double? {
        summedReadoutAccuracy(readouts: readouts, batch: batch)
    }
}
