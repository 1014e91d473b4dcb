/// The dense products the network needs, written for the layouts used throughout:
/// row-major, batch first, postsynaptic index first in weight matrices.
enum LinearAlgebra {
    /// out[m][k] += Σ_b left[b][m] · right[b][k]   (a rank-B update of an M×K matrix).
    @inline(__always)
    static func accumulateOuterProducts<T: KernelScalar>(into out: UnsafeMutablePointer<T>, left: UnsafePointer<T>, right: UnsafePointer<T>,
                                                         batch: Int, rows: Int, columns: Int) {
        for b in 0..<batch {
            let l = left + b * rows, r = right + b * columns
            for m in 0..<rows {
                let scale = l[m]
                if scale == 0 { continue }
                let o = out + m * columns
                for k in 0..<columns { o[k] += scale * r[k] }
            }
        }
    }

    /// out[b][k] += Σ_m input[b][m] · weights[m][k] (weights M×K), skipping zero inputs: the
    /// cheap way to apply weights to spikes, which are mostly zero.
    @inline(__always)
    static func accumulateSparseProduct<T: KernelScalar>(into out: UnsafeMutablePointer<T>, weights: UnsafePointer<T>, input: UnsafePointer<T>,
                                                         batch: Int, rows: Int, columns: Int) {
        for b in 0..<batch {
            let o = out + b * columns
            for m in 0..<rows {
                let scale = input[b * rows + m]
                if scale == 0 { continue }
                let w = weights + m * columns
                for k in 0..<columns { o[k] += scale * w[k] }
            }
        }
    }

    /// out[b][k] = Σ_m input[b][m] · weights[m][k]   (weights M×K: a transposed product).
    @inline(__always)
    static func transposedProduct<T: KernelScalar>(into out: UnsafeMutablePointer<T>, weights: UnsafePointer<T>, input: UnsafePointer<T>,
                                                   batch: Int, rows: Int, columns: Int) {
        out.update(repeating: 0, count: batch * columns)
        accumulateSparseProduct(into: out, weights: weights, input: input, batch: batch, rows: rows, columns: columns)
    }
}

extension LinearAlgebra {
    /// c[i][k] (+)= Σ_l a[i][l] · b[l][k] for a M×L, b L×K: a plain dense product that skips
    /// nothing (the dense baseline must pay for every zero).
    static func multiply<T: KernelScalar>(_ a: UnsafePointer<T>, _ b: UnsafePointer<T>, into c: UnsafeMutablePointer<T>,
                                          rows: Int, inner: Int, columns: Int, accumulate: Bool) {
        if !accumulate { c.update(repeating: 0, count: rows * columns) }
        for i in 0..<rows {
            let out = c + i * columns
            for l in 0..<inner {
                let scale = a[i * inner + l]
                let row = b + l * columns
                for k in 0..<columns { out[k] += scale * row[k] }
            }
        }
    }
}
