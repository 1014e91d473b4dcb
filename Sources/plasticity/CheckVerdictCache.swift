import Foundation
import PlasticityCore

/// What the check of one file in a child process concluded.
struct CheckVerdict: Codable, Equatable {
    /// Why it was refused; nil when it passed.
    var refusal: String?
    /// Whether the check ended the process that ran it (a crash, a hang, an exit): then the
    /// library must not be opened in the host at all.
    var endedTheProcess = false
    static let passed = CheckVerdict(refusal: nil)
}

/// Verdicts of child-process checks kept across runs in `check-verdicts.json` under the cache directory
/// (PLASTICITY_CACHE_DIR, else $XDG_CACHE_HOME/plasticity, else ~/.cache/plasticity), keyed by
/// the check, the file's identity (path, device, inode, size, modification time) and the host's (this
/// executable and its core library), so that a changed file or a rebuilt tool is checked again.
/// A cache that cannot be read or written is ignored: it only saves time.
final class CheckVerdictCache {
    static let directoryVariable = "PLASTICITY_CACHE_DIR"
    /// Entries kept: the most recently written.
    static let capacity = 256

    private let file: URL?
    private var entries: [String: Entry] = [:]

    private struct Entry: Codable {
        var verdict: CheckVerdict
        var written: Date
    }

    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let directory: URL?
        if let explicit = environment[Self.directoryVariable], !explicit.isEmpty {
            directory = URL(fileURLWithPath: explicit)
        } else if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty {
            directory = URL(fileURLWithPath: xdg).appendingPathComponent("plasticity")
        } else if let home = environment["HOME"], !home.isEmpty {
            directory = URL(fileURLWithPath: home).appendingPathComponent(".cache/plasticity")
        } else {
            directory = nil
        }
        file = directory?.appendingPathComponent("check-verdicts.json")
        if let file, let data = try? Data(contentsOf: file), data.count < 16 << 20,
           let stored = try? JSONDecoder().decode([String: Entry].self, from: data) {
            entries = stored
        }
    }

    /// The identity of a file as this host sees it; nil if it cannot be read.
    func key(for path: String) -> String? {
        guard let plugin = Self.identity(path) else { return nil }
        let core = URL(fileURLWithPath: PluginLoader.executableDirectory()).appendingPathComponent("libPlasticityCore.so").path
        let host = [ChildProcessCheck.executable, core].compactMap(Self.identity).joined(separator: ";")
        return "\(path)|\(plugin)|host \(host)"
    }

    private static func identity(_ path: String) -> String? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        return "\(status.st_dev):\(status.st_ino):\(status.st_size):\(status.st_mtim.tv_sec).\(status.st_mtim.tv_nsec)"
    }

    subscript(key: String) -> CheckVerdict? {
        get { entries[key]?.verdict }
        set {
            entries[key] = newValue.map { Entry(verdict: $0, written: Date()) }
            save()
        }
    }

    /// Writes the newest `capacity` entries atomically (a reader never sees half a file).
    private func save() {
        guard let file else { return }
        if entries.count > Self.capacity {
            let kept = entries.sorted { $0.value.written > $1.value.written }.prefix(Self.capacity)
            entries = Dictionary(uniqueKeysWithValues: kept.map { ($0.key, $0.value) })
        }
        guard let data = try? JSONEncoder().encode(entries) else { return }
        try? FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? data.write(to: file, options: .atomic)
    }
}
