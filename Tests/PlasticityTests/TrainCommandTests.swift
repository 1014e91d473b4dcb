import Foundation
import PlasticityCore
import Testing

@Suite("plasticity train and demo")
struct TrainCommandTests {
    static func trainArguments(checkpoint: URL, epochs: Int) -> [String] {
        ["train", "--model", "LIF", "--task", "evidence", "--train-examples", "128", "--test-examples", "32", "--hidden", "12",
         "--epochs", "\(epochs)", "--batch-size", "16", "--checkpoint-every", "1", "--checkpoint", checkpoint.path, "--seed", "5"]
    }

    @Test("a run killed mid-epoch and resumed ends with the weights of an uninterrupted run")
    func killAndResume() throws {
        let directory = try temporaryDirectory()
        let reference = directory.appendingPathComponent("reference.json")
        let uninterrupted = try runTool(Self.trainArguments(checkpoint: reference, epochs: 4))
        #expect(uninterrupted.status == 0, "\(uninterrupted.error)")

        let interrupted = directory.appendingPathComponent("interrupted.json")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: PluginLoader.executableDirectory()).appendingPathComponent("plasticity")
        process.arguments = Self.trainArguments(checkpoint: interrupted, epochs: 4)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Kill it hard once a few updates, but not a whole epoch, are saved.
        var killedAt: TrainingCheckpoint?
        while process.isRunning {
            if let saved = try? TrainingCheckpoint.read(from: interrupted), saved.updates >= 3 {
                kill(process.processIdentifier, SIGKILL)
                killedAt = saved
                break
            }
            usleep(2_000)
        }
        process.waitUntilExit()
        guard killedAt != nil, process.terminationReason == .uncaughtSignal else {
            Issue.record("the run finished before it could be killed; make it longer")
            return
        }
        let resumed = try runTool(Self.trainArguments(checkpoint: interrupted, epochs: 4) + ["--resume"])
        #expect(resumed.status == 0, "\(resumed.error)")
        let final = try TrainingCheckpoint.read(from: interrupted), expected = try TrainingCheckpoint.read(from: reference)
        #expect(final.epoch == 4)
        #expect(final.parameters == expected.parameters)
        #expect(final.history.map(\.testAccuracy) == expected.history.map(\.testAccuracy))
    }

    @Test("train writes metrics as JSON lines; a bad resume is refused")
    func metricsAndBadResume() throws {
        let directory = try temporaryDirectory()
        let checkpoint = directory.appendingPathComponent("c.json"), metrics = directory.appendingPathComponent("m.jsonl")
        let run = try runTool(Self.trainArguments(checkpoint: checkpoint, epochs: 2) + ["--metrics", metrics.path])
        #expect(run.status == 0 && run.output.contains("epoch 2: train loss"))
        let lines = try String(contentsOf: metrics, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
        let decoded = try JSONDecoder().decode(EpochMetrics.self, from: Data(lines[1].utf8))
        #expect(decoded.epoch == 2 && decoded.testAccuracy != nil)
        let mismatch = try runTool(Self.trainArguments(checkpoint: checkpoint, epochs: 3) + ["--resume", "--learning-rate", "0.1"])
        #expect(mismatch.status != 0 && mismatch.error.contains("was written by a different run"))
        try Data("{".utf8).write(to: checkpoint)
        let corrupt = try runTool(Self.trainArguments(checkpoint: checkpoint, epochs: 2) + ["--resume"])
        #expect(corrupt.error.contains("is not a Plasticity checkpoint"))
    }

    @Test("one run per checkpoint: an existing one is not overwritten without --overwrite, a locked one is refused, stale temporaries go")
    func checkpointOwnership() throws {
        let directory = try temporaryDirectory()
        let checkpoint = directory.appendingPathComponent("c.json")
        #expect(try runTool(Self.trainArguments(checkpoint: checkpoint, epochs: 1)).status == 0)
        let saved = try Data(contentsOf: checkpoint)
        let again = try runTool(Self.trainArguments(checkpoint: checkpoint, epochs: 1))
        #expect(again.status != 0 && again.error.contains("already holds a run") && again.error.contains("--overwrite"), "\(again.error)")
        #expect(try Data(contentsOf: checkpoint) == saved, "the refused run left the checkpoint as it was")
        let both = try runTool(Self.trainArguments(checkpoint: checkpoint, epochs: 1) + ["--resume", "--overwrite"])
        #expect(both.status != 0 && both.error.contains("give one"))
        // Another process holding the lock: this run is refused, the checkpoint untouched.
        let lock = open(directory.appendingPathComponent(".c.json.lock").path, O_RDWR | O_CREAT, 0o644)
        #expect(lock >= 0 && flock(lock, LOCK_EX | LOCK_NB) == 0)
        let locked = try runTool(Self.trainArguments(checkpoint: checkpoint, epochs: 1) + ["--overwrite"])
        #expect(locked.status != 0 && locked.error.contains("in use by another run"), "\(locked.error)")
        close(lock)
        let stale = directory.appendingPathComponent(".c.json.0000-dead.tmp")
        try Data("partial".utf8).write(to: stale)
        let overwritten = try runTool(Self.trainArguments(checkpoint: checkpoint, epochs: 1) + ["--overwrite"])
        #expect(overwritten.status == 0, "\(overwritten.error)")
        #expect(!FileManager.default.fileExists(atPath: stale.path), "the stale temporary was removed")
        #expect(try TrainingCheckpoint.read(from: checkpoint).runID != (try JSONDecoder().decode(TrainingCheckpoint.self, from: saved)).runID, "a new run")
    }

    @Test("metrics lines carry the run and appear once per epoch after a resume, whatever the file held")
    func metricsOncePerEpoch() throws {
        let directory = try temporaryDirectory()
        let checkpoint = directory.appendingPathComponent("c.json"), metrics = directory.appendingPathComponent("m.jsonl")
        #expect(try runTool(Self.trainArguments(checkpoint: checkpoint, epochs: 2) + ["--metrics", metrics.path]).status == 0)
        let run = try #require(try TrainingCheckpoint.read(from: checkpoint).runID)
        let original = try String(contentsOf: metrics, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(original.count == 2 && original.allSatisfy { $0.contains("\"run\":\"\(run)\"") })
        // As a kill between writing a line and saving the checkpoint, or a lost line, would leave it.
        let other = #"{"epoch":1,"run":"another"}"#
        try ([other, original[1], original[1]].joined(separator: "\n") + "\n").write(to: metrics, atomically: true, encoding: .utf8)
        let resumed = try runTool(Self.trainArguments(checkpoint: checkpoint, epochs: 2) + ["--metrics", metrics.path, "--resume"])
        #expect(resumed.status == 0, "\(resumed.error)")
        #expect(try String(contentsOf: metrics, encoding: .utf8).split(separator: "\n").map(String.init) == [other] + original)
    }

    @Test("the demo trains with both rules and prints the comparison")
    func demo() throws {
        let result = try runTool(["demo", "--hidden", "12", "--epochs", "1", "--train-examples", "64"])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("eprop") && result.output.contains("bptt") && result.output.contains("peak storage"))
    }
}

@Suite("plasticity train with validation")
struct TrainValidationCommandTests {
    @Test("train validates every epoch, reports the test split once with the best and the last weights, and writes the best weights")
    func validation() throws {
        let directory = try temporaryDirectory()
        let best = directory.appendingPathComponent("best.npz")
        let run = try runTool(TrainCommandTests.trainArguments(checkpoint: directory.appendingPathComponent("c.json"), epochs: 2)
                              + ["--validation-fraction", "0.25", "--patience", "5", "--save-best-weights", best.path])
        #expect(run.status == 0, "\(run.error)")
        #expect(run.output.contains("epoch 2: train loss") && run.output.contains("validation loss") && !run.output.contains(", test loss"), "\(run.output)")
        #expect(run.output.contains("test, best epoch ("), "\(run.output)")
        #expect(try NumPyArchive.read(best)["hidden.input"] != nil)
        let noSplit = try runTool(TrainCommandTests.trainArguments(checkpoint: directory.appendingPathComponent("d.json"), epochs: 1) + ["--patience", "2"])
        #expect(noSplit.status != 0 && noSplit.error.contains("--validation-fraction"), "\(noSplit.error)")
    }
}

@Suite("plasticity output")
struct LiveOutputTests {
    @Test("each epoch's line reaches a pipe while the run goes on, not when it ends")
    func epochLinesArriveLive() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: PluginLoader.executableDirectory()).appendingPathComponent("plasticity")
        let directory = try temporaryDirectory()
        process.arguments = ["train", "--model", "LIF", "--task", "evidence", "--train-examples", "256", "--test-examples", "32", "--hidden", "16",
                            "--epochs", "3", "--batch-size", "16", "--checkpoint", directory.appendingPathComponent("c.json").path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Read until the first epoch's line; the run must still be going then (two epochs remain).
        var received = Data()
        while !String(decoding: received, as: UTF8.self).contains("epoch 1:") {
            let chunk = pipe.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            received += chunk
        }
        let stillRunning = process.isRunning
        let text = String(decoding: received, as: UTF8.self)
        _ = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(text.contains("epoch 1:") && !text.contains("epoch 3:"), "\(text)")
        #expect(stillRunning, "the first epoch's line arrived only when the run ended")
    }
}
