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

    @Test("malformed SHD files are clear errors", arguments: ["missing", "dtype", "unit", "truncated", "label"])
    func malformedSHD(fault: String) throws {
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
        default:
            var labels = try arrays["labels"]!.integers(name: "labels")
            labels[0] = 25
            arrays["labels"] = NumPyArray(integers: labels, shape: [labels.count])
            expected = "label 25 is outside 0..<20"
        }
        try NumPyArchive.write(arrays, to: directory.appendingPathComponent("shd_train.npz"))
        try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent("shd_test.npz"), to: directory.appendingPathComponent("shd_test.npz"))
        do {
            _ = try SpikingHeidelbergDigits(directory: directory)
            Issue.record("\(fault) must be refused")
        } catch {
            #expect("\(error)".contains(expected), "\(error)")
        }
        #expect(throws: PlasticityError.self) { try SpikingHeidelbergDigits(directory: URL(fileURLWithPath: "/nonexistent")) }
    }
}
