import Foundation
import PlasticityBase

/// OpenBLAS, opened at run time, for the dense matrix products (RTRL's W_rec coupling, dense
/// e-prop's influence updates, rank-B gradient updates, products with dense inputs).
///
/// Optional: the default build and a fresh machine run on plain Swift. Opening it at run time
/// instead of linking it keeps one build, and a user who installs Debian's `libopenblas0` later
/// needs no rebuild. OpenBLAS picks its kernels for the CPU when it loads, and on some virtual
/// machines its detection falls back to an SSE3 kernel several times slower; unless
/// `OPENBLAS_CORETYPE` is set, it is set from the CPU's features before loading
/// (AVX-512 → SkylakeX, AVX2 with FMA → Haswell), and `coreName` reports what was chosen.
public struct OpenBLAS: @unchecked Sendable {
    /// The library that loaded.
    public let library: String
    /// The kernel family OpenBLAS runs (e.g. SkylakeX, Haswell, Prescott).
    public let coreName: String
    /// Its build configuration (version, threading).
    public let configuration: String
    /// Threads it runs a product on.
    public let threads: Int

    /// cblas_?gemm(order, transA, transB, M, N, K, α, A, lda, B, ldb, β, C, ldc); blasint is
    /// 32 bits in Debian's (LP64) builds.
    private typealias SGemm = @convention(c) (Int32, Int32, Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>?, Int32,
                                              UnsafePointer<Float>?, Int32, Float, UnsafeMutablePointer<Float>?, Int32) -> Void
    private typealias DGemm = @convention(c) (Int32, Int32, Int32, Int32, Int32, Int32, Double, UnsafePointer<Double>?, Int32,
                                              UnsafePointer<Double>?, Int32, Double, UnsafeMutablePointer<Double>?, Int32) -> Void
    private let sgemm: SGemm
    private let dgemm: DGemm

    /// The names tried for a request: "openblas" means the system's library; anything else is a path.
    static func candidates(for request: String) -> [String] {
        request == "openblas" ? ["libopenblas.so.0", "libopenblas.so"] : [request]
    }

    /// Opens OpenBLAS ("openblas", or a path to the library). Without `OPENBLAS_NUM_THREADS`
    /// it runs single-threaded: the rules' products are small and the cores are better spent
    /// on separate runs (the demo trains two rules at once).
    public static func load(_ request: String = "openblas") throws -> OpenBLAS {
        let environment = ProcessInfo.processInfo.environment
        if environment["OPENBLAS_CORETYPE"] == nil, let core = CPUFeatures.current.openBLASCore {
            setenv("OPENBLAS_CORETYPE", core, 0)
        }
        // Before loading: OpenBLAS starts its worker threads then, and idle workers spin.
        if environment["OPENBLAS_NUM_THREADS"] == nil && environment["OMP_NUM_THREADS"] == nil {
            setenv("OPENBLAS_NUM_THREADS", "1", 0)
        }
        let candidates = candidates(for: request)
        let library: SystemLibrary
        switch SystemLibrary.open(candidates) {
        case .success(let opened): library = opened
        case .failure(let failure): throw PlasticityError.blasUnavailable(tried: candidates, reason: failure.reason)
        }
        func function<F>(_ name: String, as type: F.Type) throws -> F {
            guard let function = library.function(name, as: type) else {
                throw PlasticityError.blasUnavailable(tried: [library.name], reason: "\(library.name) has no \(name): not an OpenBLAS library")
            }
            return function
        }
        let sgemm = try function("cblas_sgemm", as: SGemm.self)
        let dgemm = try function("cblas_dgemm", as: DGemm.self)
        let coreName = try function("openblas_get_corename", as: (@convention(c) () -> UnsafePointer<CChar>?).self)
        let configuration = try function("openblas_get_config", as: (@convention(c) () -> UnsafePointer<CChar>?).self)
        let getThreads = try function("openblas_get_num_threads", as: (@convention(c) () -> Int32).self)
        return OpenBLAS(library: library.name, coreName: coreName().map { String(cString: $0) } ?? "unknown",
                        configuration: configuration().map { String(cString: $0) } ?? "unknown", threads: Int(getThreads()),
                        sgemm: sgemm, dgemm: dgemm)
    }

    /// C (M×N, row-major) = A·B + β C, A M×K (or Aᵀ stored K×M), B K×N (or Bᵀ stored N×K).
    @inline(__always)
    public func gemm<T: KernelScalar>(transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
                               a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
                               beta: T, c: UnsafeMutablePointer<T>, ldc: Int) {
        let rowMajor: Int32 = 101, noTranspose: Int32 = 111, transpose: Int32 = 112
        let ta = transposeA ? transpose : noTranspose, tb = transposeB ? transpose : noTranspose
        // Resolved at specialisation: KernelScalar is Float or Double.
        if T.self == Float.self {
            sgemm(rowMajor, ta, tb, Int32(m), Int32(n), Int32(k), 1, UnsafeRawPointer(a).assumingMemoryBound(to: Float.self), Int32(lda),
                  UnsafeRawPointer(b).assumingMemoryBound(to: Float.self), Int32(ldb), Float(beta),
                  UnsafeMutableRawPointer(c).assumingMemoryBound(to: Float.self), Int32(ldc))
        } else if T.self == Double.self {
            dgemm(rowMajor, ta, tb, Int32(m), Int32(n), Int32(k), 1, UnsafeRawPointer(a).assumingMemoryBound(to: Double.self), Int32(lda),
                  UnsafeRawPointer(b).assumingMemoryBound(to: Double.self), Int32(ldb), Double(beta),
                  UnsafeMutableRawPointer(c).assumingMemoryBound(to: Double.self), Int32(ldc))
        } else {
            fatalError("no BLAS routine for \(T.self)")
        }
    }
}

/// What runs the dense matrix products: plain Swift (the default) or OpenBLAS (opt-in).
public enum MatrixBackend {
    /// Set once, before any rule runs (`configure`); read by the products.
    nonisolated(unsafe) static private(set) var openBLAS: OpenBLAS?

    /// Uses OpenBLAS if `PLASTICITY_BLAS` asks for it: `openblas` (the system's library) or a
    /// path to a library. Unset or empty means plain Swift. Call before running any rule.
    public static func configure(environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        guard let request = environment["PLASTICITY_BLAS"], !request.isEmpty else { return }
        if request == "swift" { openBLAS = nil; return }
        guard request == "openblas" || request.contains("/") else {
            throw PlasticityError.invalidConfiguration(
                "PLASTICITY_BLAS=\(request): expected 'openblas' (the system's libopenblas.so.0), a path to an OpenBLAS library, or 'swift'")
        }
        openBLAS = try OpenBLAS.load(request)
    }

    /// One line for reports: what runs the products.
    public static var description: String {
        guard let blas = openBLAS else { return "plain Swift" }
        return "OpenBLAS (\(blas.library), core \(blas.coreName), \(blas.threads) thread\(blas.threads == 1 ? "" : "s"))"
    }
}
