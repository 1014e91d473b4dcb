import Foundation
import PlasticityCore
import Testing

/// The opt-in OpenBLAS backend. Where the library loads, its products are checked against plain
/// ones and a whole run of every rule against the built-in products; elsewhere only the error
/// that tells the user how to get it. CI installs it and sets PLASTICITY_REQUIRE_OPENBLAS=1, so
/// there a missing library fails instead.
@Suite("Opt-in OpenBLAS")
struct OpenBLASTests {
    static var required: Bool { ProcessInfo.processInfo.environment["PLASTICITY_REQUIRE_OPENBLAS"] == "1" }

    /// The system's OpenBLAS, or nil (after checking the error) when it is not installed.
    static func library() throws -> OpenBLAS? {
        do {
            return try OpenBLAS.load()
        } catch {
            #expect(!required, "PLASTICITY_REQUIRE_OPENBLAS=1 but OpenBLAS could not be loaded: \(error)")
            #expect("\(error)".contains("apt install libopenblas0"), "\(error)")
            return nil
        }
    }

    @Test("gemm equals a plain product in every transposition, in Float and Double")
    func gemmMatchesPlainProduct() throws {
        guard let blas = try Self.library() else { return }
        #expect(blas.threads == 1 || ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"] != nil)
        check(blas, Float.self, tolerance: 1e-5)
        check(blas, Double.self, tolerance: 1e-12)
    }

    private func check<T: KernelScalar>(_ blas: OpenBLAS, _ type: T.Type, tolerance: Double) {
        var rng = SplitMix64(seed: 11)
        let (m, n, k) = (7, 13, 5)
        for (transposeA, transposeB) in [(false, false), (true, false), (false, true), (true, true)] {
            let a = (0..<(m * k)).map { _ in T(Double.random(in: -1...1, using: &rng)) }
            let b = (0..<(k * n)).map { _ in T(Double.random(in: -1...1, using: &rng)) }
            let c = (0..<(m * n)).map { _ in T(Double.random(in: -1...1, using: &rng)) }
            // A is M×K stored as such, or Kx M when transposed; likewise B.
            func aAt(_ i: Int, _ l: Int) -> Double { Double(transposeA ? a[l * m + i] : a[i * k + l]) }
            func bAt(_ l: Int, _ j: Int) -> Double { Double(transposeB ? b[j * k + l] : b[l * n + j]) }
            for beta in [T(0), T(1)] {
                var out = c
                a.withUnsafeBufferPointer { a in
                    b.withUnsafeBufferPointer { b in
                        out.withUnsafeMutableBufferPointer { out in
                            blas.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: a.baseAddress!, lda: transposeA ? m : k,
                                      b: b.baseAddress!, ldb: transposeB ? k : n, beta: beta, c: out.baseAddress!, ldc: n)
                        }
                    }
                }
                for i in 0..<m {
                    for j in 0..<n {
                        let expected = (0..<k).map { aAt(i, $0) * bAt($0, j) }.reduce(0, +) + Double(beta) * Double(c[i * n + j])
                        #expect(abs(Double(out[i * n + j]) - expected) < tolerance, "\(T.self) transposed (\(transposeA), \(transposeB)) β=\(beta)")
                    }
                }
            }
        }
    }

    /// Every rule, through the tool, with dense inputs (so the forward product is a gemm too),
    /// W_rec (RTRL's coupling and dense e-prop are gemms) and a LIF (whose e-prop gradient
    /// ends each chunk with a gemm), against the same run on the built-in products.
    @Test("plasticity grad with PLASTICITY_BLAS=openblas gives the built-in products' gradients, for every rule",
          arguments: LearningRuleKind.allCases)
    func gradientsAgree(rule: LearningRuleKind) throws {
        guard try Self.library() != nil else { return }
        let directory = try temporaryDirectory()
        let files = try GradCommandTests.writeFiles(in: directory)
        func gradients(_ environment: [String: String]) throws -> [String: NumPyArray] {
            let out = directory.appendingPathComponent("g-\(environment.values.joined()).npz")
            let result = try runTool(["grad", "--model", "LIF", "--rule", rule.rawValue, "--weights", files.weights.path, "--inputs", files.batch.path,
                                      "--out", out.path], environment: environment)
            #expect(result.status == 0, "\(result.error)")
            return try NumPyArchive.read(out)
        }
        let plain = try gradients(["PLASTICITY_BLAS": "swift"]), blas = try gradients(["PLASTICITY_BLAS": "openblas"])
        #expect(plain.keys.sorted() == blas.keys.sorted())
        for (name, array) in plain {
            let x = try #require(blas[name]).doubles, y = array.doubles
            let difference = zip(x, y).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
            let norm = y.map { $0 * $0 }.reduce(0, +).squareRoot()
            #expect(difference <= 1e-5 * max(norm, 1e-6), "\(rule) \(name): ‖Δ‖ \(difference), ‖g‖ \(norm)")
        }
    }

    @Test("a missing, foreign or unknown PLASTICITY_BLAS is refused, naming it and the way out")
    func refusals() throws {
        let missing = try runTool(["models"], environment: ["PLASTICITY_BLAS": "/nonexistent/libopenblas.so.0"])
        #expect(missing.status != 0)
        #expect(missing.error.contains("/nonexistent/libopenblas.so.0") && missing.error.contains("apt install libopenblas0"), "\(missing.error)")
        let foreign = try buildCLibrary(named: "notblas", source: "int not_blas(void) { return 0; }\n")
        let wrong = try runTool(["models"], environment: ["PLASTICITY_BLAS": foreign])
        #expect(wrong.status != 0)
        #expect(wrong.error.contains("has no cblas_sgemm: not an OpenBLAS library"), "\(wrong.error)")
        let unknown = try runTool(["models"], environment: ["PLASTICITY_BLAS": "mkl"])
        #expect(unknown.status != 0)
        #expect(unknown.error.contains("PLASTICITY_BLAS=mkl: expected 'openblas'"), "\(unknown.error)")
    }

    @Test("OpenBLAS's kernel family follows the CPU's features")
    func coreFromFeatures() {
        func core(_ flags: String) -> String? { CPUFeatures(cpuinfo: "model name\t: Test CPU\nflags\t\t: \(flags)\n").openBLASCore }
        #expect(core("sse2 avx avx2 fma avx512f avx512bw avx512dq avx512vl") == "SkylakeX")
        #expect(core("sse2 avx avx2 fma avx512f") == "Haswell", "AVX-512 without BW/DQ/VL is not enough for SkylakeX")
        #expect(core("sse2 avx avx2 fma") == "Haswell")
        #expect(core("sse2 sse3 avx") == nil)
        #expect(CPUFeatures(cpuinfo: "model name\t: Test CPU\n").modelName == "Test CPU")
    }
}
