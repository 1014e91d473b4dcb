import Foundation
import PlasticityCore
import Testing

@Suite("Datasets")
struct DatasetTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    @Test("evidence accumulation: populations, timing, labels and recall mask")
    func evidence() throws {
        var configuration = EvidenceAccumulation.Configuration()
        configuration.trainingExamples = 64
        let task = try EvidenceAccumulation(configuration)
        #expect(task.inputCount == 40 && task.steps == 7 * 15 + 50 + 15)
        let batch = try task.batch(.training, indices: Array(0..<64), as: Float.self)
        #expect(try task.batch(.training, indices: [3], as: Float.self).inputs == task.batch(.training, indices: [3], as: Float.self).inputs, "deterministic")
        var left = 0
        for b in 0..<64 {
            let label = batch.loss.label(sequence: b, step: task.steps - 1)
            left += label == 0 ? 1 : 0
            // The majority side's cue population fires more during the cue period.
            func spikes(_ population: Int, _ steps: Range<Int>) -> Float {
                steps.map { t in (0..<10).map { batch.inputs[(t * 64 + b) * 40 + population * 10 + $0] }.reduce(0, +) }.reduce(0, +)
            }
            let cues = 0..<(7 * 15)
            #expect((spikes(0, cues) > spikes(1, cues)) == (label == 0) || Swift.abs(spikes(0, cues) - spikes(1, cues)) < 20)
            #expect(spikes(2, 0..<(task.steps - 15)) == 0 && spikes(2, (task.steps - 15)..<task.steps) > 0, "recall fires only at the end")
            #expect(batch.loss.weight(step: task.steps - 16, sequence: b) == 0 && batch.loss.weight(step: task.steps - 1, sequence: b) == 1)
        }
        #expect(left > 16 && left < 48, "both answers occur")
        configuration.cues = 6
        #expect(throws: PlasticityError.self) { try EvidenceAccumulation(configuration) }
    }

    @Test("the SHD fixture loads with the right shapes and labels")
    func shdFixture() throws {
        var configuration = SpikingHeidelbergDigits.Configuration()
        configuration.steps = 50
        configuration.channelPooling = 5
        let shd = try SpikingHeidelbergDigits(directory: Self.fixtures, configuration: configuration)
        #expect(shd.count(.training) == 16 && shd.count(.test) == 8)
        #expect(shd.inputCount == 140 && shd.outputCount == 20)
        #expect(shd.labels(.training).prefix(4) == [0, 5, 10, 15])
        let batch = try shd.batch(.training, indices: [0, 1], as: Float.self)
        #expect(batch.inputs.count == 50 * 2 * 140)
        let archive = try NumPyArchive.read(Self.fixtures.appendingPathComponent("shd_train.npz"))
        let offsets = try archive["offsets"]!.integers(name: "offsets")
        let spikesInWindow = archive["times"]!.doubles[0..<offsets[1]].filter { $0 < 0.5 }.count
        #expect(Int(batch.inputs.enumerated().filter { ($0.offset / 140) % 2 == 0 }.map(\.element).reduce(0, +)) == spikesInWindow,
                "every spike of sample 0 inside the window lands in a bin")
    }

    @Test("malformed SHD files are clear errors, read in place or extracted (compressed)",
          arguments: ["missing", "dtype", "unit", "truncated", "label", "damaged"], [false, true])
    func malformedSHD(fault: String, compressed: Bool) throws {
        let directory = try temporaryDirectory()
        var arrays = try NumPyArchive.read(Self.fixtures.appendingPathComponent("shd_train.npz"))
        let expected: String
        switch fault {
        case "missing":
            arrays["labels"] = nil
            expected = "has no array 'labels'"
        case "dtype":
            arrays["units"] = NumPyArray(arrays["units"]!.doubles, shape: arrays["units"]!.shape)
            expected = "array 'units': has dtype <f8, expected integers"
        case "unit":
            var units = try arrays["units"]!.integers(name: "units")
            units[3] = 700
            arrays["units"] = NumPyArray(integers: units, shape: [units.count])
            expected = "unit 700 is outside 0..<700"
        case "truncated":
            let times = arrays["times"]!.doubles
            arrays["times"] = NumPyArray(Array(times.dropLast(10)), shape: [times.count - 10])
            arrays["units"] = NumPyArray(integers: Array(try arrays["units"]!.integers(name: "units").dropLast(10)), shape: [times.count - 10])
            expected = "(truncated file?)"
        case "damaged":
            expected = ""
        default:
            var labels = try arrays["labels"]!.integers(name: "labels")
            labels[0] = 25
            arrays["labels"] = NumPyArray(integers: labels, shape: [labels.count])
            expected = "label 25 is outside 0..<20"
        }
        let train = directory.appendingPathComponent("shd_train.npz")
        try NumPyArchive.write(arrays, to: train, compressed: compressed)
        if fault == "damaged" {
            // One flipped byte in the middle of the spikes: a CRC-32 mismatch, or a value the check refuses first.
            var bytes = try Data(contentsOf: train)
            bytes[bytes.count / 2] ^= 0x10
            try bytes.write(to: train)
        }
        try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent("shd_test.npz"), to: directory.appendingPathComponent("shd_test.npz"))
        do {
            _ = try SpikingHeidelbergDigits(directory: directory)
            Issue.record("\(fault) must be refused")
        } catch {
            let message = "\(error)"
            if fault == "damaged" {
                #expect(["CRC-32", "spike time", "unit", "cannot be extracted"].contains { message.contains($0) }, "\(message)")
            } else {
                #expect(message.contains(expected), "\(message)")
            }
        }
        #expect(throws: PlasticityError.self) { try SpikingHeidelbergDigits(directory: URL(fileURLWithPath: "/nonexistent")) }
    }

    @Test("SHD read from the file per batch, or binned once at load from a compressed file, gives the batches of binning every spike, bit for bit; huge times and tiny bins are late spikes, not traps")
    func binnedStorage() throws {
        let arrays = try NumPyArchive.read(Self.fixtures.appendingPathComponent("shd_train.npz"))
        // The same splits with compressed members: they cannot be read in place, so they are binned at load.
        let compressed = try temporaryDirectory()
        for split in ["shd_train", "shd_test"] {
            try NumPyArchive.write(try NumPyArchive.read(Self.fixtures.appendingPathComponent(split + ".npz")),
                                   to: compressed.appendingPathComponent(split + ".npz"), compressed: true)
        }
        let times = arrays["times"]!.doubles, units = try arrays["units"]!.integers(name: "units")
        let offsets = try arrays["offsets"]!.integers(name: "offsets")
        for (steps, pooling, width) in [(100, 1, 0.01), (300, 5, 0.01), (7, 3, 0.05), (50, 1, 1e-300)] {
            var configuration = SpikingHeidelbergDigits.Configuration()
            configuration.steps = steps
            configuration.channelPooling = pooling
            configuration.binWidth = width
            let shd = try SpikingHeidelbergDigits(directory: Self.fixtures, configuration: configuration)
            let indices = Array(0..<shd.count(.training)).reversed().map { $0 }
            // The reference: every spike binned into the batch as it is built.
            let channels = shd.inputCount
            var expected = [Float](repeating: 0, count: steps * indices.count * channels)
            for (b, index) in indices.enumerated() {
                for spike in offsets[index]..<offsets[index + 1] {
                    let position = times[spike] / width
                    guard position < Double(steps) else { continue }
                    expected[(Int(position) * indices.count + b) * channels + units[spike] / pooling] += 1
                }
            }
            let binned = try SpikingHeidelbergDigits(directory: compressed, configuration: configuration)
            #expect(try shd.batch(.training, indices: indices, as: Float.self).inputs == expected, "steps \(steps), pooling \(pooling), width \(width)")
            #expect(try binned.batch(.training, indices: indices, as: Float.self).inputs == expected, "steps \(steps), pooling \(pooling), width \(width)")
            #expect(binned.residentBytes < times.count * 16, "fewer bytes than a Double time and an Int unit per spike")
            let samples = shd.count(.training) + shd.count(.test)
            #expect(shd.residentBytes == (2 * samples + 2) * MemoryLayout<Int>.stride, "read per batch: an offset and a label per sample")
        }
    }

    @Test("SHD augmentation moves each training sample by whole bins and inputs within the bounds, seeded, the same read in place or binned; off, batches are unchanged")
    func augmentation() throws {
        let compressed = try temporaryDirectory()
        for split in ["shd_train", "shd_test"] {
            try NumPyArchive.write(try NumPyArchive.read(Self.fixtures.appendingPathComponent(split + ".npz")),
                                   to: compressed.appendingPathComponent(split + ".npz"), compressed: true)
        }
        var configuration = SpikingHeidelbergDigits.Configuration()
        configuration.steps = 60
        configuration.channelPooling = 10
        let plain = try SpikingHeidelbergDigits(directory: Self.fixtures, configuration: configuration)
        let indices = Array(0..<plain.count(.training))
        #expect(try plain.trainingBatch(indices: indices, seed: 3, as: Float.self).inputs == plain.batch(.training, indices: indices, as: Float.self).inputs)
        configuration.augmentation.timeShift = 5
        configuration.augmentation.channelShift = 3
        let stored = try SpikingHeidelbergDigits(directory: Self.fixtures, configuration: configuration)
        let binned = try SpikingHeidelbergDigits(directory: compressed, configuration: configuration)
        let original = try plain.batch(.training, indices: indices, as: Float.self), steps = 60, channels = plain.inputCount, batch = indices.count
        let augmented = try stored.trainingBatch(indices: indices, seed: 3, as: Float.self)
        #expect(try binned.trainingBatch(indices: indices, seed: 3, as: Float.self).inputs == augmented.inputs)
        #expect(try stored.trainingBatch(indices: indices, seed: 3, as: Float.self).inputs == augmented.inputs, "seeded")
        #expect(try stored.trainingBatch(indices: indices, seed: 4, as: Float.self).inputs != augmented.inputs, "another seed, other draws")
        #expect(indices.allSatisfy { augmented.loss.label(sequence: $0, step: 0) == original.loss.label(sequence: $0, step: 0) })
        // Each sequence is its original moved by one (bins, inputs) within the bounds, what moves out dropped.
        func sequence(_ inputs: [Float], _ b: Int) -> [Float] {
            var values: [Float] = []
            for t in 0..<steps {
                let start = (t * batch + b) * channels
                values += inputs[start..<(start + channels)]
            }
            return values
        }
        var moved = 0
        for b in indices {
            let source = sequence(original.inputs, b), target = sequence(augmented.inputs, b)
            let shifts = (-5...5).flatMap { dt in (-3...3).map { (dt, $0) } }.filter { dt, dc in
                (0..<(steps * channels)).allSatisfy { (cell: Int) -> Bool in
                    let (t, c) = cell.quotientAndRemainder(dividingBy: channels)
                    let from = t - dt, fromChannel = c - dc
                    let inside = (0..<steps).contains(from) && (0..<channels).contains(fromChannel)
                    return target[cell] == (inside ? source[from * channels + fromChannel] : 0)
                }
            }
            #expect(!shifts.isEmpty, "sequence \(b) is its original moved within ±5 bins and ±3 inputs")
            if !shifts.contains(where: { $0 == (0, 0) }) { moved += 1 }
        }
        #expect(moved > batch / 2, "most samples moved (\(moved) of \(batch))")
        configuration.augmentation.timeShift = 60
        #expect(throws: PlasticityError.self) { try SpikingHeidelbergDigits(directory: Self.fixtures, configuration: configuration) }
    }

    @Test("CRC-32 eight bytes at a time equals the bitwise definition (and the standard check value)")
    func checksum() {
        func bitwise(_ bytes: [UInt8]) -> UInt32 {
            var crc: UInt32 = 0xFFFF_FFFF
            for byte in bytes {
                crc ^= UInt32(byte)
                for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
            }
            return ~crc
        }
        #expect(Array("123456789".utf8).withUnsafeBytes { ZipChecksum.update(0, with: $0) } == 0xCBF4_3926)
        var generator = SeededGenerator(seed: 11)
        for length in [0, 1, 7, 8, 9, 63, 64, 1000, 4099] {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let split = length / 3
            // In one call, and continued across two (as a file is read in chunks).
            let whole = bytes.withUnsafeBytes { ZipChecksum.update(0, with: $0) }
            let first = bytes[..<split].withUnsafeBytes { ZipChecksum.update(0, with: $0) }
            #expect(whole == bitwise(bytes) && bytes[split...].withUnsafeBytes { ZipChecksum.update(first, with: $0) } == whole, "length \(length)")
        }
    }

    @Test("SHD splits can be files of any name, in either form; a missing or unknown form is refused listing every accepted one")
    func namedFiles() throws {
        let directory = try temporaryDirectory()
        let train = directory.appendingPathComponent("my-train.npz"), test = directory.appendingPathComponent("held-out.npz")
        try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent("shd_train.npz"), to: train)
        try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent("shd_test.npz"), to: test)
        let named = try SpikingHeidelbergDigits(directory: nil, trainingFile: train, testFile: test)
        let conventional = try SpikingHeidelbergDigits(directory: Self.fixtures)
        for split in [Split.training, .test] {
            let indices = Array(0..<conventional.count(split))
            #expect(try named.batch(split, indices: indices, as: Float.self).inputs == conventional.batch(split, indices: indices, as: Float.self).inputs)
        }
        let onlyTrain = errorMessage { _ = try SpikingHeidelbergDigits(directory: nil, trainingFile: train) }
        #expect(onlyTrain.contains("no shd_test data") && onlyTrain.contains("--train-file and --test-file"), "\(onlyTrain)")
        let text = directory.appendingPathComponent("train.csv")
        try "0,1\n".write(to: text, atomically: true, encoding: .utf8)
        #expect(errorMessage { _ = try SpikingHeidelbergDigits(directory: nil, trainingFile: text, testFile: test) }.contains("SHD files are .npz or .h5"))
        let cli = try runTool(["train", "--model", "LIF", "--task", "shd", "--train-file", train.path])
        #expect(cli.status != 0 && cli.error.contains("--train-file and --test-file"), "\(cli.error)")
    }

    /// Whether the optional libhdf5 loads here. CI installs it and sets PLASTICITY_REQUIRE_HDF5=1,
    /// so there a missing library fails the HDF5 tests instead of testing the error path.
    static let hdf5Loads: Bool = {
        let loads = (try? HDF5File(path: fixtures.appendingPathComponent("shd_h5/shd_train.h5").path)) != nil
        return loads
    }()

    static func hdf5Present(sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        optionalDependency(present: hdf5Loads, requiredBy: "PLASTICITY_REQUIRE_HDF5", "libhdf5 could not be loaded", sourceLocation: sourceLocation)
    }

    /// Reads SHD from `directory` and returns the error's text, or nil if it loaded.
    static func loadError(_ directory: URL) -> String? {
        do {
            _ = try SpikingHeidelbergDigits(directory: directory)
            return nil
        } catch {
            return "\(error)"
        }
    }

    static let publishedHDF5 = fixtures.appendingPathComponent("shd_h5_published")

    /// `plasticity train` for one epoch on an HDF5 training file (the published test split
    /// beside it), with its own verdict cache.
    static func trainOnHDF5(_ file: URL, checkpoint: URL, cache: String, environment: [String: String] = [:]) throws -> (status: Int32, output: String, error: String) {
        try runTool(["train", "--model", "LIF", "--task", "shd", "--train-file", file.path, "--test-file", publishedHDF5.appendingPathComponent("shd_test.h5").path,
                     "--hidden", "4", "--epochs", "1", "--checkpoint", checkpoint.path],
                    environment: ["PLASTICITY_CACHE_DIR": cache].merging(environment) { $1 })
    }

    @Test("HDF5 files with flipped bytes that crash libhdf5 are refused by a read in a separate process, naming the file; the tool exits cleanly and caches the verdict")
    func damagedHDF5InSeparateProcess() throws {
        guard Self.hdf5Present() else { return }
        let original = try Data(contentsOf: Self.publishedHDF5.appendingPathComponent("shd_train.h5"))
        let directory = try temporaryDirectory(), cache = try temporaryDirectory().path
        // Flips that made libhdf5 1.10 (Debian's libhdf5-103-1) fault in H5HG_read when read in process.
        var refusedInChild = 0
        for (offset, bit) in [(3867, 4), (2477, 4), (8989, 5)] {
            var damaged = original
            damaged[offset] ^= UInt8(1 << bit)
            let file = directory.appendingPathComponent("damaged-\(offset).h5")
            try damaged.write(to: file)
            for _ in 0..<2 {
                let result = try Self.trainOnHDF5(file, checkpoint: directory.appendingPathComponent("c.json"), cache: cache)
                #expect(result.status == 1, "a clean error, not a crash of the tool: \(result.error)")
                #expect(result.error.contains(file.path), "\(result.error)")
                if result.error.contains("was refused: read with libhdf5 in a separate process, it crashed with") { refusedInChild += 1 }
            }
        }
        #expect(refusedInChild > 0, "at least one flip crashes libhdf5, in the child")
        #expect(try String(contentsOfFile: cache + "/check-verdicts.json", encoding: .utf8).contains("check-data"))
    }

    @Test("the published HDF5 files read like the .npz form, in their own dtypes too (with the optional libhdf5)")
    func shdHDF5() throws {
        guard Self.hdf5Present() else {
            let error = try #require(Self.loadError(Self.fixtures.appendingPathComponent("shd_h5")))
            #expect(error.contains("reading HDF5 needs libhdf5") && error.contains("apt install libhdf5-103-1") && error.contains("shd_to_npz.py"), "\(error)")
            return
        }
        var configuration = SpikingHeidelbergDigits.Configuration()
        configuration.steps = 300   // 3 s: every spike of the fixture lands in a bin
        configuration.channelPooling = 5
        let npz = try SpikingHeidelbergDigits(directory: Self.fixtures, configuration: configuration)
        let h5 = try SpikingHeidelbergDigits(directory: Self.fixtures.appendingPathComponent("shd_h5"), configuration: configuration)
        let published = try SpikingHeidelbergDigits(directory: Self.fixtures.appendingPathComponent("shd_h5_published"), configuration: configuration)
        for split in [Split.training, .test] {
            let indices = Array(0..<npz.count(split))
            #expect(h5.count(split) == indices.count && published.count(split) == indices.count)
            #expect(h5.labels(split) == npz.labels(split) && published.labels(split) == npz.labels(split))
            let reference = try npz.batch(split, indices: indices, as: Float.self).inputs
            #expect(try h5.batch(split, indices: indices, as: Float.self).inputs == reference, "float32 times bin exactly as the .npz's")
            // float16 times (the published files') may move a spike to a neighbouring bin, never
            // to another channel or out of the sequence: per-sequence channel totals agree.
            let halfPrecision = try published.batch(split, indices: indices, as: Float.self).inputs
            func channelTotals(_ inputs: [Float]) -> [Float] {
                var totals = [Float](repeating: 0, count: indices.count * npz.inputCount)
                for (index, value) in inputs.enumerated() { totals[index % totals.count] += value }
                return totals
            }
            #expect(channelTotals(halfPrecision) == channelTotals(reference))
            #expect(reference.reduce(0, +) > 0)
        }
    }

    @Test("malformed HDF5 SHD files are clear errors", arguments: [
        ("missing_labels", "has no dataset 'labels'"), ("unit_out_of_range", "unit 700 is outside 0..<700"),
        ("length_mismatch", "sample 1 has"), ("float_units", "dataset 'spikes/units' holds floating-point numbers, expected integers"),
        ("flat_times", "dataset 'spikes/times' holds floating-point numbers, expected variable-length vectors"),
        ("truncated", "is not a readable HDF5 file"),
        ("integer_times", "dataset 'spikes/times' holds integers, expected floating-point numbers (seconds"),
        // A few KB declaring 2e9 labels (16 GB): refused before anything is allocated.
        ("sparse_labels", "dataset 'labels' declares 2000000000 entries, more than a file of its size can hold even compressed"),
    ])
    func malformedHDF5(fault: String, expected: String) throws {
        let directory = try temporaryDirectory()
        let good = Self.fixtures.appendingPathComponent("shd_h5")
        let train = directory.appendingPathComponent("shd_train.h5")
        if fault == "truncated" {
            let bytes = try Data(contentsOf: good.appendingPathComponent("shd_train.h5"))
            try bytes.prefix(bytes.count / 2).write(to: train)
        } else {
            try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent("shd_h5_faults/\(fault).h5"), to: train)
        }
        try FileManager.default.copyItem(at: good.appendingPathComponent("shd_test.h5"), to: directory.appendingPathComponent("shd_test.h5"))
        let error = try #require(Self.loadError(directory), "\(fault) must be refused")
        if Self.hdf5Present() {
            #expect(error.contains(expected), "\(error)")
        } else {
            #expect(error.contains("reading HDF5 needs libhdf5"), "\(error)")
        }
    }

    @Test("a directory with neither form of a split says what it looked for")
    func shdMissingSplit() throws {
        let directory = try temporaryDirectory()
        try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent("shd_train.npz"), to: directory.appendingPathComponent("shd_train.npz"))
        let error = try #require(Self.loadError(directory))
        #expect(error.contains("neither shd_test.npz nor shd_test.h5 is in"), "\(error)")
    }
}
