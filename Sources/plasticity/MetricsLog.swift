import Foundation
import PlasticityCore

/// `--metrics`: one JSON line per epoch, each with its run's identifier, written exactly once
/// across interruptions: a resumed run first makes the file agree with its checkpoint's
/// history (lines of epochs the checkpoint does not hold are dropped, missing ones added),
/// then appends as it goes. Lines of other runs are kept as they are.
struct MetricsLog {
    let url: URL
    let run: String

    /// One epoch's line: the metrics and `run`.
    func line(_ metrics: EpochMetrics) throws -> Data {
        struct Line: Encodable {
            let run: String
            let metrics: EpochMetrics
            enum Keys: String, CodingKey { case run }
            func encode(to encoder: Encoder) throws {
                try metrics.encode(to: encoder)
                var container = encoder.container(keyedBy: Keys.self)
                try container.encode(run, forKey: .run)
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(Line(run: run, metrics: metrics)) + Data("\n".utf8)
    }

    /// Appends one line; the reason it could not, if it could not.
    func append(_ metrics: EpochMetrics) -> String? {
        do {
            let data = try line(metrics)
            if !FileManager.default.fileExists(atPath: url.path), !FileManager.default.createFile(atPath: url.path, contents: nil) {
                return "it cannot be created"
            }
            let handle = try FileHandle(forWritingTo: url)
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: data)
            return nil
        } catch {
            return "\(error.localizedDescription)"
        }
    }

    /// Rewrites the file (atomically) so that this run's lines are exactly `history`, one per
    /// epoch in order, after the lines of other runs.
    func reconcile(with history: [EpochMetrics]) throws {
        let existing = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        struct RunOnly: Decodable { let run: String? }
        let others = existing.split(separator: "\n", omittingEmptySubsequences: true).filter { text in
            (try? JSONDecoder().decode(RunOnly.self, from: Data(text.utf8)))?.run != run
        }
        var data = Data(others.map { $0 + "\n" }.joined().utf8)
        for metrics in history { data += try line(metrics) }
        try data.write(to: url, options: .atomic)
    }
}
