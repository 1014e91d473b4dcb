import Foundation
import PlasticityCore
import Testing

/// `mpirun -np K plasticity train …` (optional: Open MPI or MPICH; CI installs Open MPI and sets
/// PLASTICITY_REQUIRE_MPI=1, so there a missing mpirun fails these tests instead of skipping them).
@Suite("Training over MPI ranks")
struct MPITests {
    static let mpirun: String? = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
        .map { "\($0)/mpirun" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    /// Whether mpirun is here (CI requires it).
    static func mpirunPresent(sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        optionalDependency(present: mpirun != nil, requiredBy: "PLASTICITY_REQUIRE_MPI", "mpirun is not on PATH", sourceLocation: sourceLocation)
    }
    /// Open MPI refuses to run as root without these; CI runs as root.
    static let environment = ["OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1", "PLASTICITY_CACHE_DIR": toolCacheDirectory]
    static var tool: String { URL(fileURLWithPath: PluginLoader.executableDirectory()).appendingPathComponent("plasticity").path }

    static func arguments(checkpoint: URL, epochs: Int, examples: Int = 96) -> [String] {
        ["train", "--model", "ALIF", "--task", "evidence", "--train-examples", "\(examples)", "--test-examples", "16", "--hidden", "12", "--epochs", "\(epochs)",
         "--batch-size", "24", "--threads", "1", "--shards", "4", "--seed", "3", "--checkpoint", checkpoint.path]
    }

    static func mpi(_ ranks: Int, _ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
        try runProgram(try #require(mpirun), ["-np", "\(ranks)", "--oversubscribe", tool] + arguments, environment: environment)
    }

    @Test("2 and 3 ranks end with one process's weights bit for bit (the shards are reduced in one order)")
    func sameWeights() throws {
        guard Self.mpirunPresent() else { return }
        let directory = try temporaryDirectory()
        let single = directory.appendingPathComponent("single.json")
        let reference = try runTool(Self.arguments(checkpoint: single, epochs: 2))
        #expect(reference.status == 0, "\(reference.error)")
        let expected = try TrainingCheckpoint.read(from: single).parameters
        // Evaluation is shared among the ranks too: the same test losses and accuracies.
        let expectedTests = try TrainingCheckpoint.read(from: single).history.map { [$0.trainingLoss, $0.testLoss ?? .nan, $0.testAccuracy ?? .nan] }
        for ranks in [2, 3] {
            let checkpoint = directory.appendingPathComponent("mpi-\(ranks).json")
            let run = try Self.mpi(ranks, Self.arguments(checkpoint: checkpoint, epochs: 2))
            #expect(run.status == 0, "\(run.error)")
            #expect(run.output.contains("shared by \(ranks) MPI ranks"), "\(run.output)")
            #expect(run.output.components(separatedBy: "epoch 2:").count == 2, "rank 0 alone prints: \(run.output)")
            #expect(try TrainingCheckpoint.read(from: checkpoint).parameters == expected, "\(ranks) ranks")
            #expect(try TrainingCheckpoint.read(from: checkpoint).history.map { [$0.trainingLoss, $0.testLoss ?? .nan, $0.testAccuracy ?? .nan] } == expectedTests)
        }
    }

    /// SHD can give a sequence's label without reading its spikes, so each rank reads and bins
    /// only its own shards' samples (`BatchParts`); a rank that binned the wrong ones would train
    /// on zeros and end elsewhere.
    @Test("on SHD, where each rank reads only its own shards' samples, 2 and 3 ranks end with one process's weights and test scores bit for bit")
    func ownSamplesOnly() throws {
        guard Self.mpirunPresent() else { return }
        let directory = try temporaryDirectory()
        let arguments = { (checkpoint: URL) in
            ["train", "--model", "ALIF", "--task", "shd", "--data", DatasetTests.fixtures.path, "--hidden", "16", "--epochs", "2", "--batch-size", "8",
             "--threads", "1", "--shards", "4", "--seed", "3", "--checkpoint", checkpoint.path]
        }
        let single = directory.appendingPathComponent("single.json")
        let reference = try runTool(arguments(single))
        #expect(reference.status == 0, "\(reference.error)")
        let expected = try TrainingCheckpoint.read(from: single)
        for ranks in [2, 3] {
            let checkpoint = directory.appendingPathComponent("mpi-\(ranks).json")
            let run = try Self.mpi(ranks, arguments(checkpoint))
            #expect(run.status == 0, "\(run.error)")
            let found = try TrainingCheckpoint.read(from: checkpoint)
            #expect(found.parameters == expected.parameters, "\(ranks) ranks")
            #expect(Self.scores(found) == Self.scores(expected), "\(ranks) ranks")
        }
    }

    /// Each epoch's losses and accuracies (training and test).
    static func scores(_ checkpoint: TrainingCheckpoint) -> [[Double?]] {
        checkpoint.history.map { [$0.trainingLoss, $0.trainingAccuracy, $0.testLoss, $0.testAccuracy] }
    }

    /// `--exchange sum`: each rank adds its own shards and MPI sums the ranks' sums, in Double,
    /// in its own order — so the weights agree with one process's to rounding, not bit for bit.
    @Test("with --exchange sum, 2 and 3 ranks end within 1e-6 of one process's weights (relative to each tensor's largest), and a resume must keep it")
    func summedExchange() throws {
        guard Self.mpirunPresent() else { return }
        let directory = try temporaryDirectory()
        let single = directory.appendingPathComponent("single.json")
        #expect(try runTool(Self.arguments(checkpoint: single, epochs: 2)).status == 0)
        let expected = try TrainingCheckpoint.read(from: single).parameters
        for ranks in [2, 3] {
            let checkpoint = directory.appendingPathComponent("sum-\(ranks).json")
            let run = try Self.mpi(ranks, Self.arguments(checkpoint: checkpoint, epochs: 2) + ["--exchange", "sum"])
            #expect(run.status == 0, "\(run.error)")
            let found = try TrainingCheckpoint.read(from: checkpoint)
            #expect(found.configuration.exchange == .sum)
            for (mine, reference) in zip(found.parameters.named, expected.named) {
                let scale = reference.values.map { Swift.abs(Double($0)) }.max() ?? 0
                let difference = zip(mine.values, reference.values).map { Swift.abs(Double($0) - Double($1)) }.max() ?? 0
                #expect(difference <= 1e-6 * scale, "\(ranks) ranks, \(mine.name): \(difference) against \(scale)")
            }
        }
        // The exchange is part of the run: resuming the summed run with the gathering one is refused.
        let resumed = try Self.mpi(2, Self.arguments(checkpoint: directory.appendingPathComponent("sum-2.json"), epochs: 3) + ["--resume"])
        #expect(resumed.status != 0 && (resumed.error + resumed.output).contains("exchange"), "\(resumed.error)")
    }

    @Test("more ranks than shards is refused before training, naming the count to give")
    func tooFewShards() throws {
        guard Self.mpirunPresent() else { return }
        var arguments = Self.arguments(checkpoint: try temporaryDirectory().appendingPathComponent("c.json"), epochs: 1)
        arguments[try #require(arguments.firstIndex(of: "--shards")) + 1] = "2"
        let run = try Self.mpi(3, arguments)
        #expect(run.status != 0 && run.error.contains("3 ranks need at least 3 shards per batch (each rank computes its own), got 2: give --shards 3 or more"),
                "\(run.error)")
    }

    @Test("a rank killed mid-run ends the job with an error, never a hang; every rank resumes from the intact checkpoint and ends with one process's weights")
    func killedRank() throws {
        guard Self.mpirunPresent(), let mpirun = Self.mpirun else { return }
        let directory = try temporaryDirectory(), checkpoint = directory.appendingPathComponent("job.json")
        let job = Process()
        job.executableURL = URL(fileURLWithPath: mpirun)
        // 2 batches per epoch, 30 epochs: long enough to be killed early.
        let arguments = Self.arguments(checkpoint: checkpoint, epochs: 30, examples: 48) + ["--checkpoint-every", "1"]
        job.arguments = ["-np", "2", "--oversubscribe", Self.tool] + arguments
        job.environment = ProcessInfo.processInfo.environment.merging(Self.environment) { $1 }
        let errors = Pipe()
        job.standardOutput = FileHandle.nullDevice
        job.standardError = errors
        try job.run()
        // Once a few updates are saved, kill rank 1 hard.
        var killed = false
        while job.isRunning, !killed {
            if let saved = try? TrainingCheckpoint.read(from: checkpoint), saved.updates >= 3 {
                let ranks = try runProgram("pgrep", ["-P", "\(job.processIdentifier)", "-f", "plasticity"]).output.split(separator: "\n").compactMap { Int32($0) }
                if let rank = ranks.max() { killed = kill(rank, SIGKILL) == 0 }
            }
            usleep(20_000)
        }
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        job.waitUntilExit()
        #expect(killed)
        #expect(job.terminationStatus != 0, "the job ends with an error")
        #expect(message.contains("exited on signal 9") || message.contains("Killed"), "\(message)")
        let saved = try TrainingCheckpoint.read(from: checkpoint)
        #expect(saved.updates >= 3 && saved.updates < 60)
        let resumed = try Self.mpi(2, arguments + ["--resume"])
        #expect(resumed.status == 0, "\(resumed.error)")
        let reference = directory.appendingPathComponent("reference.json")
        #expect(try runTool(Self.arguments(checkpoint: reference, epochs: 30, examples: 48) + ["--checkpoint-every", "1"]).status == 0)
        #expect(try TrainingCheckpoint.read(from: checkpoint).parameters == TrainingCheckpoint.read(from: reference).parameters)
    }

    @Test("started by mpirun without a usable MPI library: a clear error naming what to install")
    func missingLibrary() throws {
        let result = try runTool(Self.arguments(checkpoint: try temporaryDirectory().appendingPathComponent("c.json"), epochs: 1),
                                 environment: ["OMPI_COMM_WORLD_SIZE": "2", "OMPI_COMM_WORLD_RANK": "0", "PLASTICITY_MPI_LIBRARY": "/nonexistent/libmpi.so"])
        #expect(result.status != 0)
        #expect(result.error.contains("started by mpirun with 2 ranks, but no MPI library loads") && result.error.contains("PLASTICITY_MPI_LIBRARY"), "\(result.error)")
    }
}
