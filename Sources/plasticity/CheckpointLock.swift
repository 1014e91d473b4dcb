import ArgumentParser
import Foundation

/// One run per checkpoint: an exclusive lock on `.NAME.lock` beside the checkpoint, held until
/// the process ends (the system releases it even on SIGKILL), so that two runs cannot write
/// each other's checkpoint and weights. Holding it, the temporary files that an interrupted
/// write of this checkpoint left behind are removed.
final class CheckpointLock {
    private let descriptor: Int32

    init(checkpoint path: String) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent(), name = url.lastPathComponent
        let lockPath = directory.appendingPathComponent(".\(name).lock").path
        descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw ValidationError("--checkpoint \(path): cannot create its lock \(lockPath) (\(String(cString: strerror(errno))))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw ValidationError("--checkpoint \(path) is in use by another run (it holds \(lockPath)); give this run another --checkpoint, or wait for that one")
        }
        // The atomic writes' temporaries (`.NAME.UUID.tmp`) that a killed run left.
        let stale = (try? FileManager.default.contentsOfDirectory(atPath: directory.path))?
            .filter { $0.hasPrefix(".\(name).") && $0.hasSuffix(".tmp") } ?? []
        for file in stale { try? FileManager.default.removeItem(at: directory.appendingPathComponent(file)) }
    }

    deinit { close(descriptor) }
}
