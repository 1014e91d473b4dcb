import Foundation
import PlasticityCore
import Testing

@Suite("Bad input files and options")
struct BadInputTests {
    @Test("a state that becomes infinite or NaN stops every rule at that step, naming the model, population, state, neuron and batch element")
    func nonFiniteState() throws {
        // v squares itself: finite for a while, then infinite, then NaN (inf − inf). Neuron 2
        // of batch element 1 gets the strongest input and breaks first.
        let model = try ModelFile.parse("""
            model Explode
            state v = 0
            v' = v*v + I - z
            spike v - 1000
            """, path: "Explode.neuron")
        let network = try Network(shape: NetworkShape(inputs: 1, hidden: 3, outputs: 2), neuron: try model.compile())
        var parameters = ParameterSet<Double>(randomFor: network, seed: 1)
        parameters["hidden.input"] = [0.1, 0.2, 0.9]
        let inputs = [Double]((0..<20).flatMap { _ in [0.1, 1.0] })
        let loss = try Loss<Double>(.crossEntropyLastStep, steps: 20, batch: 2, outputs: 2, labels: [0, 1])
        for rule in [LearningRuleKind.bptt, .eprop, .rtrl, .denseEprop] {
            let message = errorMessage {
                _ = try GradientComputation.run(rule: rule, network: network, parameters: parameters, inputs: inputs, steps: 20, batch: 2, loss: loss)
            }
            #expect(message.contains("state v of neuron 2 (batch element 1) in population 'hidden' (model Explode) is inf at time step"), "\(rule): \(message)")
        }
    }

    @Test("an .npz path that is a directory or a FIFO is refused at once, not searched or waited on")
    func notRegularFiles() throws {
        let directory = try temporaryDirectory()
        #expect(errorMessage { _ = try NumPyArchive.read(directory) }.contains("is not a regular file"))
        let fifo = directory.appendingPathComponent("pipe.npz")
        #expect(mkfifo(fifo.path, 0o600) == 0)
        #expect(errorMessage { _ = try NumPyArchive.read(fifo) }.contains("is not a regular file"))
        #expect(errorMessage { _ = try NumPyArchive.read(directory.appendingPathComponent("missing.npz")) }.contains("cannot be read"))
    }

    @Test("a flipped byte inside an .npz member fails its CRC-32 check instead of giving other numbers")
    func crc() throws {
        let file = try temporaryDirectory().appendingPathComponent("w.npz")
        try NumPyArchive.write(["w": NumPyArray((0..<1000).map { Float($0) }, shape: [1000])], to: file)
        #expect(try NumPyArchive.read(file)["w"]?.count == 1000)
        var bytes = [UInt8](try Data(contentsOf: file))
        let magic = [UInt8](Data("NUMPY".utf8))
        let start = try #require((0..<(bytes.count - magic.count)).first { Array(bytes[$0..<($0 + magic.count)]) == magic })
        bytes[start + 400] ^= 0x10
        try Data(bytes).write(to: file)
        #expect(errorMessage { _ = try NumPyArchive.read(file) }.contains("fails its CRC-32 check"))
    }

    @Test(".npy shapes whose size overflows, and trailing data, are named as what they are")
    func npyShapes() throws {
        func npy(shape: String, body: Int) -> Data {
            var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }"
            while (10 + header.count + 1) % 64 != 0 { header += " " }
            header += "\n"
            return Data([0x93]) + Data("NUMPY".utf8) + Data([1, 0, UInt8(header.count & 0xFF), UInt8(header.count >> 8)]) + Data(header.utf8)
                + Data(repeating: 0, count: body)
        }
        #expect(errorMessage { _ = try NumPyArray(npy: npy(shape: "(4611686018427387904, 8)", body: 8), name: "x") }.contains("more bytes than any file holds"))
        #expect(errorMessage { _ = try NumPyArray(npy: npy(shape: "(2,)", body: 12), name: "x") }.contains("trailing data"))
        #expect(errorMessage { _ = try NumPyArray(npy: npy(shape: "(4,)", body: 12), name: "x") }.contains("truncated"))
    }

    @Test("a mask with a loss that has no steps to mask is refused, not ignored")
    func maskWithoutSteps() throws {
        let network = try Network(shape: NetworkShape(inputs: 2, hidden: 3, outputs: 2), neuron: TestPlugins.compile("LIF"))
        let arrays = ["inputs": NumPyArray([Float](repeating: 0, count: 12), shape: [3, 2, 2]), "labels": NumPyArray(integers: [0, 1], shape: [2]),
                      "mask": NumPyArray([Float](repeating: 1, count: 6), shape: [3, 2])]
        let message = errorMessage {
            let _: (inputs: [Float], steps: Int, batch: Int, loss: Loss<Float>) = try NetworkArrays.readBatch(arrays, file: "x.npz", network: network, lossKind: nil)
        }
        #expect(message.contains("has a 'mask', but the ce-summed loss"), "\(message)")
    }

    @Test("train refuses out-of-range optimisation options before anything runs, naming the option", arguments: [
        (["--momentum=-1"], "--momentum"), (["--clip", "0"], "--clip"), (["--warmup=-5"], "--warmup"), (["--target-rate=-1"], "--target-rate"),
        (["--bptt-checkpoint", "0"], "--bptt-checkpoint"), (["--learning-rate", "nan"], "--learning-rate"), (["--validation-fraction", "1"], "--validation-fraction"),
        // Sizes that used to trap or allocate hundreds of gigabytes.
        (["--train-examples", "0"], "each split needs"), (["--delay", "100000000"], "each must be at most"),
        (["--epochs", "4611686018427387904"], "more than a run counts"), (["--delay", "1000000", "--batch-size", "100000"], "more than 16 GiB"),
        (["--time-shift", "3"], "--time-shift and --channel-shift augment SHD data"),
    ])
    func trainOptions(arguments: [String], option: String) throws {
        let directory = try temporaryDirectory()
        let run = try runTool(TrainCommandTests.trainArguments(checkpoint: directory.appendingPathComponent("c.json"), epochs: 1) + arguments)
        #expect(run.status != 0 && run.error.contains(option), "\(run.error)")
        #expect(!run.error.contains("Fatal error") && !run.error.contains("crashed"), "\(run.error)")
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("c.json").path), "nothing ran")
    }

    @Test("plan and compare refuse empty, huge and negative sizes with the option named, not a trap or a missing value", arguments: [
        (["plan", "--model", "LIF", "--batch", "0"], "--batch must be"), (["plan", "--model", "LIF", "--steps", "0"], "--steps 1…"),
        (["plan", "--model", "LIF", "--batch", "100000000000", "--steps", "100000000000"], "--batch must be"),
        (["plan", "--model", "LIF", "--memory", "9999999999GiB"], "more than any machine has"), (["plan", "--model", "LIF", "--hidden", "-5"], "at least one neuron"),
        (["plan", "--model", "LIF", "--readout-decay", "-0.5"], "must be in [0, 1)"), (["compare", "--model", "LIF", "--steps", "100000000"], "--steps must be"),
        (["compare", "--model", "LIF", "--steps", "1000000", "--batch", "10000"], "more than 16 GiB"), (["compare", "--model", "LIF", "--input-rate", "2"], "--input-rate"),
    ])
    func sizes(arguments: [String], expected: String) throws {
        let run = try runTool(arguments)
        #expect(run.status != 0 && run.error.contains(expected) && !run.error.contains("Fatal error"), "\(run.error)")
    }

    @Test("--plugin naming a built-in is no error; a plugin path entry that is a file or missing is said, not skipped silently")
    func pluginNames() throws {
        let builtIn = try runTool(["plan", "--model", "LIF", "--plugin", "LIF", "--plugin", "ALIF"])
        #expect(builtIn.status == 0 && builtIn.output.contains("CHOSEN"), "\(builtIn.error)")
        let file = try temporaryDirectory().appendingPathComponent("notes.txt")
        try Data("x".utf8).write(to: file)
        let listed = try runTool(["models"], environment: ["PLASTICITY_PLUGIN_PATH": "\(file.path):/nonexistent-plugins"])
        #expect(listed.status == 0)
        #expect(listed.error.contains("\(file.path), which is a file") && listed.error.contains("/nonexistent-plugins, which does not exist"), "\(listed.error)")
    }

    @Test("demo refuses a training set of no trials instead of trapping")
    func demoWithoutTrials() throws {
        let run = try runTool(["demo", "--train-examples", "0"])
        #expect(run.status != 0 && run.error.contains("each split needs") && !run.error.contains("Fatal error"), "\(run.error)")
    }
}

extension BadInputTests {
    @Test("output paths are checked before training: a missing directory, a directory, an unwritable file")
    func outputPathsCheckedFirst() throws {
        let directory = try temporaryDirectory()
        let common = ["train", "--model", "LIF", "--task", "evidence", "--train-examples", "32", "--test-examples", "16", "--hidden", "8", "--epochs", "1",
                      "--batch-size", "16", "--threads", "1", "--checkpoint", directory.appendingPathComponent("c.json").path]
        let readOnly = directory.appendingPathComponent("read-only.npz")
        FileManager.default.createFile(atPath: readOnly.path, contents: Data())
        try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: readOnly.path)
        let cases: [([String], String)] = [
            (["--metrics", "/nonexistent/dir/m.jsonl"], "--metrics /nonexistent/dir/m.jsonl: the directory /nonexistent/dir does not exist"),
            (["--save-weights", directory.path], "--save-weights \(directory.path) is a directory, not a file"),
            (["--checkpoint", "/nonexistent/c.json"], "the directory /nonexistent does not exist"),
        ] + (getuid() == 0 ? [] : [(["--save-weights", readOnly.path], "cannot be written")])
        for (flags, message) in cases {
            let run = try runTool(common + flags)
            #expect(run.status != 0 && run.error.contains(message), "\(flags): \(run.error)")
            #expect(!run.output.contains("epoch 1"), "refused before training: \(run.output)")
        }
    }
}
