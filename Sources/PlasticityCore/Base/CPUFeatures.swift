import Foundation

/// What the CPU this process runs on is and can do, as Linux reports it in /proc/cpuinfo.
public struct CPUFeatures: Sendable {
    /// The first processor's model name ("unknown CPU" if not reported).
    public let modelName: String
    /// Instruction-set extensions (avx2, fma, avx512f, …).
    public let flags: Set<String>

    public static let current = CPUFeatures(cpuinfo: (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? "")

    /// Parses the text of /proc/cpuinfo.
    public init(cpuinfo: String) {
        func field(_ name: String) -> String? {
            cpuinfo.split(separator: "\n").first { $0.hasPrefix(name) }
                .map { String($0.split(separator: ":", maxSplits: 1).last ?? "").trimmingCharacters(in: .whitespaces) }
        }
        modelName = field("model name") ?? "unknown CPU"
        flags = Set((field("flags") ?? "").split(separator: " ").map(String.init))
    }

    /// The OpenBLAS kernel family for these features, if it has one that uses them.
    public var openBLASCore: String? {
        if flags.isSuperset(of: ["avx512f", "avx512bw", "avx512dq", "avx512vl"]) { return "SkylakeX" }
        if flags.isSuperset(of: ["avx2", "fma"]) { return "Haswell" }
        return nil
    }
}
