import Foundation
import PlasticityCore
import Testing

@Suite("NumPy .npy and .npz interop")
struct NumPyTests {
    @Test("arrays of every type round-trip through the .npy encoding")
    func npyRoundTrip() throws {
        let arrays = [
            NumPyArray([Float](arrayLiteral: 1, -2.5, 3e-7, 4, 5, 6), shape: [2, 3]),
            NumPyArray([0.1, 0.2, 0.3], shape: [3]),
            NumPyArray([42.0], shape: []),
            NumPyArray(integers: [3, -1, 7, 0], shape: [2, 2, 1]),
        ]
        for array in arrays {
            let encoded = array.encoded()
            #expect((encoded.count - array.bytes.count) % 64 == 0, "the header is padded to 64 bytes")
            #expect(try NumPyArray(npy: encoded, name: "x") == array)
        }
        #expect(try NumPyArray(integers: [3, -1], shape: [2]).integers(name: "x") == [3, -1])
    }

    @Test("malformed .npy data is refused with the array's name and the reason")
    func malformedNpy() {
        let good = NumPyArray([Double](arrayLiteral: 1, 2, 3, 4), shape: [4]).encoded()
        #expect(errorMessage { _ = try NumPyArray(npy: Data("hello".utf8), name: "w") } == "array 'w': not a .npy array (bad magic)")
        #expect(errorMessage { _ = try NumPyArray(npy: good.dropLast(8), name: "w") }.contains("holds 24 bytes of data, but shape [4] of float64 needs 32 (truncated?)"))
        func replacing(_ old: String, _ new: String) -> Data {
            var data = good
            data.replaceSubrange(data.range(of: Data(old.utf8))!, with: Data(new.utf8))
            return data
        }
        let bigEndian = replacing("<f8", ">f8")
        #expect(errorMessage { _ = try NumPyArray(npy: bigEndian, name: "w") }.contains("unsupported dtype '>f8'"))
        let fortran = replacing("False", "True ")
        #expect(errorMessage { _ = try NumPyArray(npy: fortran, name: "w") }.contains("Fortran-ordered"))
        #expect(errorMessage { _ = try NumPyArray([1.5], shape: [1]).integers(name: "labels") } == "array 'labels': expected integers, found 1.5")
    }

    @Test(".npz archives round-trip, and a file that is not one is a clear error")
    func npzRoundTrip() throws {
        let url = try temporaryDirectory().appendingPathComponent("a.npz")
        let arrays = ["a": NumPyArray([Double](arrayLiteral: 1, 2), shape: [2]), "b": NumPyArray(integers: [5], shape: [1, 1])]
        try NumPyArchive.write(arrays, to: url)
        #expect(try NumPyArchive.read(url) == arrays)
        try NumPyArchive.write(["c": NumPyArray([Float](arrayLiteral: 9), shape: [1])], to: url)
        #expect(try NumPyArchive.read(url).keys.sorted() == ["c"], "writing replaces the file")
        let junk = try temporaryDirectory().appendingPathComponent("junk.npz")
        try Data("not a zip".utf8).write(to: junk)
        #expect(errorMessage { _ = try NumPyArchive.read(junk) }.contains("not a readable .npz (zip) file"))
    }
}

@Suite("plasticity grad")
struct GradCommandTests {
    /// Writes a weights file and a batch file for a small recurrent ALIF network.
    static func writeFiles(in directory: URL, inputColumns: Int = 4) throws -> (weights: URL, batch: URL, parameters: ParameterSet<Float>, network: Network) {
        let shape = NetworkShape(inputs: 4, hidden: 6, outputs: 3, recurrent: true, bias: true, readoutDecay: 0.5)
        let network = try Network(shape: shape, neuron: TestPlugins.compile("ALIF"))
        var parameters = ParameterSet<Float>(randomFor: network, seed: 8, inputGain: 3, recurrentGain: 1.5)
        parameters["hidden.bias"] = [0.1, 0, 0.2, 0, 0.05, 0]
        let weights = directory.appendingPathComponent("w.npz"), batch = directory.appendingPathComponent("x.npz")
        try NumPyArchive.write(NetworkArrays.arrays(of: parameters, network: network), to: weights)
        var rng = SplitMix64(seed: 2)
        let inputs = (0..<(25 * 2 * inputColumns)).map { _ in Float.random(in: 0...1, using: &rng) }
        try NumPyArchive.write(["inputs": NumPyArray(inputs, shape: [25, 2, inputColumns]),
                                "labels": NumPyArray(integers: (0..<50).map { $0 % 3 }, shape: [25, 2])], to: batch)
        return (weights, batch, parameters, network)
    }

    @Test("gradients written by the tool equal those computed in process", arguments: [LearningRuleKind.bptt, .eprop])
    func roundTrip(rule: LearningRuleKind) throws {
        let directory = try temporaryDirectory()
        let files = try Self.writeFiles(in: directory)
        let out = directory.appendingPathComponent("g.npz")
        let result = try runTool(["grad", "--model", "ALIF", "--rule", rule.rawValue, "--weights", files.weights.path, "--inputs", files.batch.path,
                                  "--out", out.path, "--readout-decay", "0.5"])
        #expect(result.status == 0, "\(result.error)")
        let written = try NumPyArchive.read(out)
        let network = files.network
        let batch: (inputs: [Float], steps: Int, batch: Int, loss: Loss<Float>) = try NetworkArrays.readBatch(
            try NumPyArchive.read(files.batch), file: "x", network: network, lossKind: nil)
        let expected = try ShardedComputation.gradients(rule: rule, network: network, parameters: files.parameters,
                                                        batch: SequenceBatch(inputs: batch.inputs, steps: batch.steps, batch: batch.batch, loss: batch.loss), threads: 1)
        for (name, array) in NetworkArrays.arrays(of: expected.gradients, network: network) {
            #expect(written[name] == array, "\(name)")
        }
        #expect(written["loss"]?.doubles == [expected.loss])
        #expect(expected.spikeCount > 0)
    }

    @Test("mis-shaped or incomplete files are refused with the array and the expected shape")
    func badFiles() throws {
        let directory = try temporaryDirectory()
        let files = try Self.writeFiles(in: directory, inputColumns: 5)
        let out = directory.appendingPathComponent("g.npz").path
        let wrongWidth = try runTool(["grad", "--model", "ALIF", "--weights", files.weights.path, "--inputs", files.batch.path, "--out", out])
        #expect(wrongWidth.status != 0)
        #expect(wrongWidth.error.contains("array 'inputs' has shape [25, 2, 5], expected (T, B, 4) to match the network"), "\(wrongWidth.error)")
        #expect(!FileManager.default.fileExists(atPath: out), "nothing is written on failure")

        try NumPyArchive.write(["inputs": NumPyArray([Float](repeating: 0, count: 8), shape: [1, 2, 4])], to: files.batch)
        let noLabels = try runTool(["grad", "--model", "ALIF", "--weights", files.weights.path, "--inputs", files.batch.path, "--out", out])
        #expect(noLabels.error.contains("neither 'labels' nor 'targets'"))

        var weights = try NumPyArchive.read(files.weights)
        weights["hidden.bias"] = NumPyArray([Float](repeating: 0, count: 5), shape: [5])
        try NumPyArchive.write(weights, to: files.weights)
        let badBias = try runTool(["grad", "--model", "ALIF", "--weights", files.weights.path, "--inputs", files.batch.path, "--out", out])
        #expect(badBias.error.contains("array 'hidden.bias' has shape [5], expected [6]"), "\(badBias.error)")

        weights["hidden.bias"] = NumPyArray([Float](repeating: 0, count: 6), shape: [6])
        weights["hidden.inputs"] = weights["hidden.input"]
        try NumPyArchive.write(weights, to: files.weights)
        let stray = try runTool(["grad", "--model", "ALIF", "--weights", files.weights.path, "--inputs", files.batch.path, "--out", out])
        #expect(stray.error.contains("'hidden.inputs'") && stray.error.contains("a tensor of this network"), "an array the network has no tensor for is named: \(stray.error)")
    }
}
