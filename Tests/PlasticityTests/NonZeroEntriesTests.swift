import PlasticityCore
import Testing

@Suite("Finding non-zero values")
struct NonZeroEntriesTests {
    /// The vectorised left-packing against a plain scan, on rows whose widths are not multiples
    /// of the vector width, with every density from empty to full, −0 (zero) and NaN (not).
    @Test("positions equal a plain scan's, in Float and Double", arguments: [1, 3, 4, 7, 33, 141])
    func matchesPlainScan(width: Int) {
        var rng = SplitMix64(seed: UInt64(width))
        for density in [0.0, 0.05, 0.3, 0.9, 1.0] {
            let batch = 3
            let values: [Double] = (0..<(batch * width)).map { _ in
                let u = Double.random(in: 0..<1, using: &rng)
                guard u < density else { return Bool.random(using: &rng) ? 0 : -0.0 }
                return [1.0, -2.5, .nan, 1e-30][Int.random(in: 0..<4, using: &rng)]
            }
            check(values.map(Float.init), batch: batch, width: width)
            check(values, batch: batch, width: width)
        }
    }

    private func check<T: KernelScalar>(_ values: [T], batch: Int, width: Int) {
        let entries = NonZeroEntries<T>(batch: batch, width: width)
        values.withUnsafeBufferPointer { entries.find(in: $0.baseAddress!) }
        var total = 0
        for b in 0..<batch {
            let expected = (0..<width).filter { values[b * width + $0] != 0 }
            let found = entries.positions(inRow: b).map(Int.init)
            #expect(found == expected, "\(T.self) width \(width) row \(b)")
            total += expected.count
        }
        #expect(entries.total == total)
    }
}
