import Foundation
import PlasticityCore

/// Training progress on standard error: a bar redrawn in place on a terminal, plain lines
/// (one per epoch and every few batches) otherwise.
final class ProgressReporter {
    private let interactive = isatty(STDERR_FILENO) == 1
    private let start = Date()
    private let label: String
    private var lastLine = Date.distantPast

    init(label: String) { self.label = label }

    func report(_ event: TrainingEvent) {
        switch event {
        case .batch(let epoch, let batch, let batches, let loss, let accuracy, let updates, let total):
            let elapsed = Date().timeIntervalSince(start)
            let rate = Double(updates) / Swift.max(elapsed, 1e-9)
            let remaining = Double(total - updates) / Swift.max(rate, 1e-9)
            let fraction = Double(updates) / Double(total)
            let accuracyText = accuracy.map { String(format: " acc %.1f%%", $0 * 100) } ?? ""
            let status = String(format: "%@epoch %d batch %d/%d loss %.4f%@ %.1f batch/s, %@ left", label, epoch + 1, batch, batches, loss, accuracyText, rate, Self.duration(remaining))
            if interactive {
                let width = 24, filled = Int(fraction * Double(width))
                let bar = String(repeating: "=", count: filled) + (filled < width ? ">" : "") + String(repeating: " ", count: Swift.max(0, width - filled - 1))
                write("\r[\(bar)] \(String(format: "%3.0f%%", fraction * 100)) \(status)\u{1B}[K")
            } else if Date().timeIntervalSince(lastLine) > 10 {
                lastLine = Date()
                write("\(String(format: "%3.0f%%", fraction * 100)) \(status)\n")
            }
        case .epoch:
            if interactive { write("\r\u{1B}[K") }
        case .checkpoint, .finished:
            break
        }
    }

    private func write(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }

    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? "\(s / 3600)h\(s % 3600 / 60)m" : s >= 60 ? "\(s / 60)m\(s % 60)s" : "\(s)s"
    }
}
