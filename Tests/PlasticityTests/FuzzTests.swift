import Foundation
import PlasticityCore
import Testing

/// Byte flips and truncations of valid files of every format the tool reads, with a fixed
/// seed: no crash, no hang, and never a silently different result — each corrupted file is
/// refused with an error, or reads back exactly what the valid file holds.
@Suite("Bounded fuzz of the file readers")
struct FuzzTests {
    /// A corrupted copy of `bytes`: 1–3 single-bit flips within `flippable` (default: anywhere),
    /// or a truncation.
    static func corrupt(_ bytes: Data, _ generator: inout SplitMix64, flippable: Range<Int>? = nil) -> Data {
        var copy = bytes
        if Bool.random(using: &generator) {
            return copy.prefix(Int.random(in: 0..<copy.count, using: &generator))
        }
        let range = flippable ?? 0..<copy.count
        for _ in 0..<Int.random(in: 1...3, using: &generator) {
            let index = copy.startIndex + Int.random(in: range, using: &generator)
            copy[index] ^= UInt8(1 << Int.random(in: 0..<8, using: &generator))
        }
        return copy
    }

    /// Runs `cases` corruptions of `valid` through `read`, which returns a fingerprint of what
    /// it read; each must throw, or give the valid file's fingerprint.
    static func fuzz<Fingerprint: Equatable>(_ valid: Data, cases: Int, seed: UInt64, file: URL, flippable: Range<Int>? = nil,
                                             read: (URL) throws -> Fingerprint) throws -> (refused: Int, same: Int) {
        try valid.write(to: file)
        let reference = try read(file)
        var generator = SplitMix64(seed: seed)
        var outcome = (refused: 0, same: 0)
        for index in 0..<cases {
            let corrupted = corrupt(valid, &generator, flippable: flippable)
            guard corrupted != valid else { continue }
            try corrupted.write(to: file)
            do {
                let fingerprint = try read(file)
                #expect(fingerprint == reference, "case \(index): a corrupted file read as something else")
                outcome.same += 1
            } catch {
                outcome.refused += 1
            }
        }
        return outcome
    }

    @Test(".npy arrays: a damaged header or a truncation is refused (a flip among the values cannot be: the format has no checksum; .npz has)")
    func numPy() throws {
        let array = NumPyArray((0..<60).map { Double($0) * 0.37 - 3 }, shape: [5, 12])
        let file = try temporaryDirectory().appendingPathComponent("weights.npy")
        let encoded = array.encoded()
        let headerEnd = 10 + Int(encoded[8]) + Int(encoded[9]) << 8
        let outcome = try Self.fuzz(encoded, cases: 400, seed: 1, file: file, flippable: 0..<headerEnd) { url in
            let parsed = try NumPyArray(npy: try Data(contentsOf: url), name: "weights")
            return [Double(parsed.shape.count)] + parsed.shape.map(Double.init) + parsed.doubles
        }
        #expect(outcome.refused > 250, "\(outcome)")
    }

    @Test(".npz archives, stored and compressed, and SHD read from them: a flip anywhere is refused (CRC-32), a truncation too")
    func numPyArchives() throws {
        let directory = try temporaryDirectory()
        let arrays = ["a": NumPyArray((0..<200).map { Double($0) }, shape: [10, 20]), "b": NumPyArray(integers: Array(0..<50), shape: [50])]
        for compressed in [false, true] {
            let source = directory.appendingPathComponent("valid-\(compressed).npz")
            try NumPyArchive.write(arrays, to: source, compressed: compressed)
            let outcome = try Self.fuzz(try Data(contentsOf: source), cases: 300, seed: compressed ? 3 : 2, file: directory.appendingPathComponent("fuzz.npz")) { url in
                try NumPyArchive.read(url).sorted { $0.key < $1.key }.map { [Double($0.value.count)] + $0.value.doubles }
            }
            // ZIP's directory has fields no reader checks (times, comments): those flips read the same.
            #expect(outcome.refused > 200, "compressed \(compressed): \(outcome)")
        }
        let shd = try Data(contentsOf: DatasetTests.fixtures.appendingPathComponent("shd_train.npz"))
        let test = DatasetTests.fixtures.appendingPathComponent("shd_test.npz")
        var configuration = SpikingHeidelbergDigits.Configuration()
        configuration.steps = 300
        configuration.channelPooling = 5
        let outcome = try Self.fuzz(shd, cases: 150, seed: 4, file: directory.appendingPathComponent("shd_train.npz")) { url in
            let data = try SpikingHeidelbergDigits(directory: nil, trainingFile: url, testFile: test, configuration: configuration)
            let indices = Array(0..<data.count(.training))
            return try data.batch(.training, indices: indices, as: Float.self).inputs + data.labels(.training).map(Float.init)
        }
        #expect(outcome.refused > 100, "\(outcome)")
    }

    @Test("checkpoints: refused (checksum, JSON, field checks) or identical in every value")
    func checkpoints() throws {
        let directory = try temporaryDirectory()
        let checkpoint = directory.appendingPathComponent("run.json")
        let run = try runTool(TrainCommandTests.trainArguments(checkpoint: checkpoint, epochs: 1))
        #expect(run.status == 0, "\(run.error)")
        let valid = try Data(contentsOf: checkpoint)
        let outcome = try Self.fuzz(valid, cases: 300, seed: 5, file: directory.appendingPathComponent("fuzz.json")) { url in
            let read = try TrainingCheckpoint.read(from: url)
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            return try encoder.encode(read)
        }
        #expect(outcome.refused > 280, "\(outcome)")
        // And through the tool: a resume from a damaged checkpoint is refused, the file kept.
        var damaged = valid
        let digit = try #require(damaged.firstIndex(of: UInt8(ascii: "7")))
        damaged[digit] = UInt8(ascii: "8")
        try damaged.write(to: checkpoint)
        let resume = try runTool(TrainCommandTests.trainArguments(checkpoint: checkpoint, epochs: 2) + ["--resume"])
        #expect(resume.status != 0 && resume.error.contains("is damaged: its contents no longer match the checksum"), "\(resume.error)")
        #expect(try Data(contentsOf: checkpoint) == damaged, "nothing overwritten")
    }

    @Test("HDF5 files, read by the tool (libhdf5 in a separate process): a clean error or the same data, never a crash or a hang")
    func hdf5() throws {
        guard DatasetTests.hdf5Present() else { return }
        let valid = try Data(contentsOf: DatasetTests.publishedHDF5.appendingPathComponent("shd_train.h5"))
        let directory = try temporaryDirectory(), cache = try temporaryDirectory().path
        var generator = SplitMix64(seed: 6)
        var refused = 0
        for index in 0..<16 {
            let file = directory.appendingPathComponent("fuzz-\(index).h5")
            try Self.corrupt(valid, &generator).write(to: file)
            let result = try DatasetTests.trainOnHDF5(file, checkpoint: directory.appendingPathComponent("c-\(index).json"), cache: cache,
                                                      environment: ["PLASTICITY_DATA_CHECK_SECONDS": "60"])
            // 0: the flip hit bytes nothing reads (HDF5 stores no checksum of its data, so a flip
            // inside a spike time cannot be told from a real value); 1: refused. Never a signal.
            #expect([0, 1].contains(result.status), "case \(index): \(result.status) \(result.error)")
            if result.status == 1 { refused += 1 }
        }
        #expect(refused > 8)
    }
}
