import Foundation
import PlasticityBase
import PlasticityEngine
import PlasticityIO

/// How spikes (times in seconds, channels) become the cells of a sample's input raster:
/// `steps` bins of `binWidth` seconds (later spikes dropped), channels pooled by `pooling`.
struct SpikeBinning {
    let steps: Int
    let binWidth: Double
    /// Channels before and after pooling.
    let channels: Int, pooledChannels: Int
    /// Each channel's input after pooling (a table: a division per spike was a visible share
    /// of making a batch).
    private let pooled: [Int]

    init(steps: Int, binWidth: Double, pooling: Int, channels: Int) {
        self.steps = steps
        self.binWidth = binWidth
        self.channels = channels
        pooledChannels = (channels + pooling - 1) / pooling
        pooled = (0..<channels).map { $0 / pooling }
    }

    /// A spike's bin and pooled channel, nil if it falls after the window; a time that is not a
    /// finite non-negative number or a channel out of range is an error naming `source` (the
    /// file, whose data may have changed since it was checked).
    @inline(__always)
    func place(time: Double, unit: Double, source: @autoclosure () -> String) throws -> (bin: Int, channel: Int)? {
        try Self.check(time: time, unit: unit, channels: channels, source: source())
        return place(checkedTime: time, unit: Int(unit))
    }

    /// `place` for a spike already checked: a finite non-negative time, a unit in range.
    @inline(__always)
    func place(checkedTime time: Double, unit: Int) -> (bin: Int, channel: Int)? {
        bin(ofCheckedTime: time).map { ($0, pooled[unit]) }
    }

    /// The bin of a finite non-negative time, nil if it falls after the window.
    @inline(__always)
    func bin(ofCheckedTime time: Double) -> Int? {
        // Compared as a Double first: a time of 1e30 s, or a tiny bin width, is a late spike,
        // not an overflow.
        let position = time / binWidth
        guard position < Double(steps) else { return nil }
        return Int(position)
    }

    /// Each channel's input after pooling and `shift` (−1 where the shift moves it out of the
    /// raster), for one sample's spikes.
    func withShiftedChannels<R>(_ shift: Shift, _ body: (UnsafeBufferPointer<Int32>) throws -> R) rethrows -> R {
        try withUnsafeTemporaryAllocation(of: Int32.self, capacity: channels) { table in
            for unit in 0..<channels {
                let channel = pooled[unit] + shift.channels
                table[unit] = channel >= 0 && channel < pooledChannels ? Int32(channel) : -1
            }
            return try body(UnsafeBufferPointer(table))
        }
    }

    /// A sample's raster moved by whole bins and inputs (augmentation).
    struct Shift {
        let bins: Int, channels: Int
        static let none = Shift(bins: 0, channels: 0)
    }

    /// The index of (bin, channel) moved by `shift` in sequence `b` of a time-major batch of
    /// `batch` sequences, nil if it moves out of the raster.
    @inline(__always)
    func index(bin: Int, channel: Int, shift: Shift, sequence b: Int, batch: Int) -> Int? {
        let bin = bin + shift.bins, channel = channel + shift.channels
        guard bin >= 0, bin < steps, channel >= 0, channel < pooledChannels else { return nil }
        return (bin * batch + b) * pooledChannels + channel
    }

    /// A spike's time and channel as the data set's format requires them.
    @inline(__always)
    static func check(time: Double, unit: Double, channels: Int, source: @autoclosure () -> String) throws {
        guard unit >= 0, unit < Double(channels), Double(Int(unit)) == unit else {
            let shown = unit == unit.rounded() && Swift.abs(unit) < 1e18 ? "\(Int(unit))" : "\(unit)"
            throw PlasticityError.malformedArray(name: "units", reason: "in \(source()): unit \(shown) is outside 0..<\(channels)")
        }
        guard time.isFinite, time >= 0 else {
            throw PlasticityError.malformedArray(name: "times", reason: "in \(source()): spike time \(time) is not a finite non-negative number of seconds")
        }
    }
}

/// A split's samples binned once, when the files are read (HDF5 files and compressed `.npz`):
/// per sample its non-zero cells and their spike counts, 6 bytes per cell.
struct BinnedEvents {
    let cells: [UInt32]
    let counts: [UInt16]
    /// Sample k's cells are offsets[k]..<offsets[k+1].
    let offsets: [Int]
    let labels: [Int]

    /// Bins every sample of `times`/`units` (sample k's spikes at spikeOffsets[k]..<spikeOffsets[k+1]).
    init(times: [Double], units: [Double], spikeOffsets: [Int], labels: [Int], binning: SpikeBinning, source: String) throws {
        var cells: [UInt32] = [], counts: [UInt16] = [], offsets = [0]
        var sample: [Int] = []
        for k in labels.indices {
            sample.removeAll(keepingCapacity: true)
            for spike in spikeOffsets[k]..<spikeOffsets[k + 1] {
                if let place = try binning.place(time: times[spike], unit: units[spike], source: source) {
                    sample.append(place.bin * binning.pooledChannels + place.channel)
                }
            }
            sample.sort()
            var start = 0
            while start < sample.count {
                var end = start + 1
                while end < sample.count, sample[end] == sample[start] { end += 1 }
                guard end - start <= Int(UInt16.max) else {
                    throw PlasticityError.malformedArray(name: "times", reason: "in \(source): sample \(k) has \(end - start) spikes in one bin and channel (more than \(UInt16.max))")
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
        self.labels = labels
    }

    var bytes: Int { cells.count * 6 + (offsets.count + labels.count) * MemoryLayout<Int>.stride }

    /// Adds sample `index`'s counts, moved by `shift`, into sequence `b` of a time-major batch.
    func add<T: KernelScalar>(sample index: Int, into inputs: UnsafeMutableBufferPointer<T>, sequence b: Int, batch: Int, binning: SpikeBinning, shift: SpikeBinning.Shift) {
        for entry in offsets[index]..<offsets[index + 1] {
            let (bin, channel) = Int(cells[entry]).quotientAndRemainder(dividingBy: binning.pooledChannels)
            if let position = binning.index(bin: bin, channel: channel, shift: shift, sequence: b, batch: batch) { inputs[position] += T(Int(counts[entry])) }
        }
    }
}

/// A split kept in an uncompressed `.npz` (as `numpy.savez` and `Scripts/shd_to_npz.py` write
/// it) and read a batch at a time: only the sample offsets and labels are held in memory, so
/// a data set of any size costs a few bytes per sample. Every spike is checked once when the
/// file is opened (with the members' CRC-32), and again as it is read.
struct StoredEvents {
    let times: StoredNumPyArray, units: StoredNumPyArray
    /// Sample k's spikes are offsets[k]..<offsets[k+1].
    let offsets: [Int]
    let labels: [Int]

    /// The split in `url`, or nil if the archive compresses its spikes (they must then be
    /// extracted whole).
    init?(url: URL, channels: Int, classes: Int) throws {
        let file = try RandomAccessFile(path: url.path)
        let directory = try ZipDirectory(file: file)
        guard let times = try StoredNumPyArray(file: file, directory: directory, name: "times"),
              let units = try StoredNumPyArray(file: file, directory: directory, name: "units"),
              let offsetArray = try StoredNumPyArray(file: file, directory: directory, name: "offsets"),
              let labelArray = try StoredNumPyArray(file: file, directory: directory, name: "labels") else { return nil }
        try SpikeEventsChecks.check(type: times.dataType, of: "times", floating: true)
        for array in [units, offsetArray, labelArray] { try SpikeEventsChecks.check(type: array.dataType, of: array.name, floating: false) }
        guard units.count == times.count else {
            throw PlasticityError.shapeMismatch(name: "units", expected: "[\(times.count)] like 'times'", found: "[\(units.count)]")
        }
        // Offsets and labels are a few bytes per sample: bounded by the file's size, read whole.
        let labels = try SpikeEventsChecks.integers(labelArray)
        let offsets = try SpikeEventsChecks.integers(offsetArray)
        try SpikeEventsChecks.check(offsets: offsets, labels: labels, spikes: times.count, classes: classes)
        try times.scan { raw in
            let valid: Bool
            switch times.dataType {
            case .float32: valid = SpikeEventsChecks.areValid(times: raw.bindMemory(to: Float.self))
            default: valid = SpikeEventsChecks.areValid(times: raw.bindMemory(to: Double.self))
            }
            // Found again value by value for the error that names it.
            if !valid { for time in NumPyArray.doubles(raw, times.dataType) { try SpikeBinning.check(time: time, unit: 0, channels: channels, source: url.path) } }
        }
        try units.scan { raw in
            let valid: Bool
            switch units.dataType {
            case .int32: valid = SpikeEventsChecks.areValid(units: raw.bindMemory(to: Int32.self), channels: channels)
            case .int64: valid = SpikeEventsChecks.areValid(units: raw.bindMemory(to: Int64.self), channels: channels)
            default: valid = SpikeEventsChecks.areValid(units: raw.bindMemory(to: UInt8.self), channels: channels)
            }
            if !valid { for unit in NumPyArray.doubles(raw, units.dataType) { try SpikeBinning.check(time: 0, unit: unit, channels: channels, source: url.path) } }
        }
        self.times = times
        self.units = units
        self.offsets = offsets
        self.labels = labels
    }

    var bytes: Int { (offsets.count + labels.count) * MemoryLayout<Int>.stride }

    /// Reads sample `index`'s spikes and adds them, moved by `shift`, into sequence `b` of a
    /// time-major batch. `timeBytes` and `unitBytes` are buffers reused from sample to sample.
    func add<T: KernelScalar>(sample index: Int, into inputs: UnsafeMutableBufferPointer<T>, sequence b: Int, batch: Int, binning: SpikeBinning,
                              shift: SpikeBinning.Shift, timeBytes: inout [UInt8], unitBytes: inout [UInt8]) throws {
        let range = offsets[index]..<offsets[index + 1]
        try times.withElements(range, scratch: &timeBytes) { rawTimes in
            try units.withElements(range, scratch: &unitBytes) { rawUnits in
                let spikes = StoredSpikes(inputs: inputs, sequence: b, batch: batch, binning: binning, shift: shift, source: times.file.path)
                switch times.dataType {
                case .float32: try spikes.add(times: rawTimes.bindMemory(to: Float.self), units: rawUnits, stored: units.dataType)
                default: try spikes.add(times: rawTimes.bindMemory(to: Double.self), units: rawUnits, stored: units.dataType)
                }
            }
        }
    }
}

/// Spikes read from a file in the types it stores them in (dtypes checked when it was opened),
/// each pair compiled on its own: converting every spike to Double first cost more than
/// binning it.
struct StoredSpikes<T: KernelScalar> {
    let inputs: UnsafeMutableBufferPointer<T>
    let sequence: Int, batch: Int
    let binning: SpikeBinning, shift: SpikeBinning.Shift
    let source: String

    func add<Time: BinaryFloatingPoint>(times: UnsafeBufferPointer<Time>, units raw: UnsafeRawBufferPointer, stored: NumPyArray.DataType) throws {
        switch stored {
        case .int32: try add(times: times, units: raw.bindMemory(to: Int32.self))
        case .int64: try add(times: times, units: raw.bindMemory(to: Int64.self))
        default: try add(times: times, units: raw.bindMemory(to: UInt8.self))
        }
    }

    /// `SpikeBinning.place` and `index` for every spike, with each unit's shifted channel taken
    /// from a table and the row's offsets worked out once: this loop is most of making a batch
    /// of SHD, which the workers share with training.
    private func add<Time: BinaryFloatingPoint, Unit: BinaryInteger>(times: UnsafeBufferPointer<Time>, units: UnsafeBufferPointer<Unit>) throws {
        let binning = binning, channels = binning.channels, steps = binning.steps
        let rowStride = batch * binning.pooledChannels, first = sequence * binning.pooledChannels, bins = shift.bins
        try binning.withShiftedChannels(shift) { channelOf in
            for spike in times.indices {
                let time = Double(times[spike]), unit = Int(truncatingIfNeeded: units[spike])
                guard time.isFinite, time >= 0, unit >= 0, unit < channels else {
                    // The file changed since it was checked: the error names the spike.
                    try SpikeBinning.check(time: time, unit: Double(units[spike]), channels: channels, source: source)
                    continue
                }
                guard let unshifted = binning.bin(ofCheckedTime: time) else { continue }
                let bin = unshifted &+ bins, channel = channelOf[unit]
                guard bin >= 0, bin < steps, channel >= 0 else { continue }
                inputs[bin &* rowStride &+ first &+ Int(channel)] += 1
            }
        }
    }
}

/// Checks shared by the ways a split is read.
enum SpikeEventsChecks {
    /// Whether every time is a finite non-negative number (a loop that vectorises: a whole
    /// file is checked when it is opened).
    static func areValid<Time: BinaryFloatingPoint>(times: UnsafeBufferPointer<Time>) -> Bool {
        var poison: Time = 0, minimum: Time = 0
        for time in times {
            poison += time * 0
            minimum = time < minimum ? time : minimum
        }
        return poison == 0 && minimum >= 0
    }

    /// Whether every unit is in 0..<channels.
    static func areValid<Unit: BinaryInteger>(units: UnsafeBufferPointer<Unit>, channels: Int) -> Bool {
        guard let first = units.first else { return true }
        var minimum = first, maximum = first
        for unit in units {
            minimum = unit < minimum ? unit : minimum
            maximum = unit > maximum ? unit : maximum
        }
        return minimum >= 0 && Int(maximum) < channels
    }

    /// Every value of `array`, as integers.
    static func integers(_ array: StoredNumPyArray) throws -> [Int] {
        try NumPyArray(try array.doubles(0..<array.count), shape: [array.count]).integers(name: array.name)
    }

    /// Times are floats, units, offsets and labels integers.
    static func check(type: NumPyArray.DataType, of name: String, floating: Bool) throws {
        let isFloat = type == .float32 || type == .float64
        guard isFloat == floating else {
            throw PlasticityError.malformedArray(name: name, reason: "has dtype \(type.rawValue), expected \(floating ? "float32 or float64" : "integers")")
        }
    }

    /// Offsets that cut `spikes` spikes into one run per label, and labels that are classes.
    static func check(offsets: [Int], labels: [Int], spikes: Int, classes: Int) throws {
        guard offsets.count == labels.count + 1, offsets.first == 0, offsets.last == spikes,
              zip(offsets, offsets.dropFirst()).allSatisfy({ $0 <= $1 }) else {
            throw PlasticityError.malformedArray(name: "offsets", reason: "must be \(labels.count + 1) non-decreasing values from 0 to \(spikes) (truncated file?)")
        }
        if let bad = labels.first(where: { $0 < 0 || $0 >= classes }) {
            throw PlasticityError.malformedArray(name: "labels", reason: "label \(bad) is outside 0..<\(classes)")
        }
    }
}
