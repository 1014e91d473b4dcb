import PlasticityCore
import Testing

@Suite("Loops compiled for the scalar")
struct ScalarLoopsTests {
    /// The exponent-bit test against `isFinite` value by value: one special value planted at
    /// every position of arrays of several lengths, among finite values at the edges (the
    /// largest finite, subnormals, −0).
    @Test("allFinite agrees with isFinite in Float and Double", arguments: [1, 5, 16, 37])
    func allFiniteAgrees(count: Int) {
        var rng = SplitMix64(seed: UInt64(count))
        let edges: [Double] = [0, -0.0, 1, -3.5, 4.9e-324, 1e-310, .greatestFiniteMagnitude, -.greatestFiniteMagnitude]
        for special in [Double.nan, .infinity, -.infinity, -Double.nan, 1e300] {
            for position in 0..<count {
                var values = (0..<count).map { _ in edges[Int.random(in: 0..<edges.count, using: &rng)] }
                values[position] = special
                check(values)
                check(values.map(Float.init))
            }
        }
        check([Double]())
    }

    private func check<T: KernelScalar>(_ values: [T]) {
        let expected = values.allSatisfy(\.isFinite)
        #expect(values.withUnsafeBufferPointer { ScalarLoops.allFinite($0) } == expected, "\(T.self) \(values)")
    }

    @Test("doubles converts Float and Double exactly")
    func doublesExact() {
        let values: [Float] = [1.5, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude, .nan]
        let converted = ScalarLoops.doubles(values)
        #expect(zip(values, converted).allSatisfy { Double($0).bitPattern == $1.bitPattern })
        #expect(ScalarLoops.doubles([2.25, -7.0]) == [2.25, -7.0])
    }
}
