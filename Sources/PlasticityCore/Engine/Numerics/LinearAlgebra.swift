import CKernels
import PlasticityBase

/// The dense products the network needs, written for the layouts used throughout:
/// row-major, batch first, postsynaptic index first in weight matrices. With the opt-in
/// OpenBLAS backend (`MatrixBackend`) the dense ones, and a product with spikes or inputs when
/// they are dense enough, run as its gemm.
enum LinearAlgebra {
    /// OpenBLAS's gemm runs at several times the rate of the loops here, so a product that
    /// skips zeros is handed to it once at least this fraction of its operand is non-zero.
    private static var denseEnoughForBLAS: Double { 0.25 }

    /// out[m][k] += Σ_b left[b][m] · right[b][k]   (a rank-B update of an M×K matrix).
    @inline(__always)
    static func accumulateOuterProducts<T: KernelScalar>(into out: UnsafeMutablePointer<T>, left: UnsafePointer<T>, right: UnsafePointer<T>,
                                                         batch: Int, rows: Int, columns: Int) {
        if let blas = MatrixBackend.openBLAS {
            blas.gemm(transposeA: true, m: rows, n: columns, k: batch, a: left, lda: rows, b: right, ldb: columns, beta: 1, c: out, ldc: columns)
            return
        }
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

    /// out[i] += a[i] · b[i] for i < count: e-prop's recursions over the B×N elements and its
    /// per-synapse pass; Float runs in C at the CPU's full vector width, the same bits.
    @inline(__always)
    static func accumulateProducts<T: KernelScalar>(into out: UnsafeMutablePointer<T>, _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, count: Int) {
        if T.self == Float.self {
            plasticity_multiply_add_float(out.floats, a.floats, b.floats, count)
            return
        }
        for i in 0..<count { out[i] += a[i] * b[i] }
    }

    /// outᵀ[k][m] += Σ_b right[b][k] · left[b][m]: the rank-B update out += leftᵀ·right kept
    /// transposed (K×M), skipping zero values of `right`. For `right` holding spikes or spiking
    /// inputs, mostly zero, each non-zero value costs one contiguous row of M operations
    /// instead of touching every column of `out`.
    @inline(__always)
    static func accumulateSparseOuterProducts<T: KernelScalar>(intoTransposed out: UnsafeMutablePointer<T>, left: UnsafePointer<T>,
                                                               right: UnsafePointer<T>, batch: Int, rows: Int, columns: Int) {
        for b in 0..<batch {
            let l = left + b * rows, r = right + b * columns
            withNonZeroPositions(of: r, count: columns) { addScaledRows(into: out, left: l, right: r, positions: $0, rows: rows) }
        }
    }

    /// The same with the non-zero values of `right` found beforehand.
    @inline(__always)
    static func accumulateSparseOuterProducts<T: KernelScalar>(intoTransposed out: UnsafeMutablePointer<T>, left: UnsafePointer<T>,
                                                               right: UnsafePointer<T>, nonZero: NonZeroEntries<T>, rows: Int, columns: Int) {
        for b in 0..<nonZero.batch {
            addScaledRows(into: out, left: left + b * rows, right: right + b * columns, positions: nonZero.positions(inRow: b), rows: rows)
        }
    }

    /// One sequence's share of the outer products: out[k·rows + m] += right[k] · left[m] for each
    /// position k, in order.
    @inline(__always)
    private static func addScaledRows<T: KernelScalar>(into out: UnsafeMutablePointer<T>, left: UnsafePointer<T>, right: UnsafePointer<T>,
                                                       positions: UnsafeBufferPointer<Int32>, rows: Int) {
        if T.self == Float.self {
            // The same loop in C, cloned for the CPU's vector width (this build's is SSE2's).
            return plasticity_add_scaled_rows_float(out.floats, left.floats, rows, rows, right.floats, positions.baseAddress, positions.count)
        }
        for k in positions {
            let scale = right[Int(k)], o = out + Int(k) * rows
            for m in 0..<rows { o[m] += scale * left[m] }
        }
    }

    /// One sequence's share of a product with weights: out[k] += input[m] · weights[m·rowStride + k]
    /// for k < columns and each position m, in order.
    @inline(__always)
    private static func addWeightRows<T: KernelScalar>(into out: UnsafeMutablePointer<T>, weights: UnsafePointer<T>, input: UnsafePointer<T>,
                                                       positions: UnsafeBufferPointer<Int32>, columns: Int, rowStride: Int) {
        if T.self == Float.self {
            // The same loop in C, cloned for the CPU's vector width (this build's is SSE2's).
            return plasticity_sparse_product_float(out.floats, weights.floats, columns, rowStride, input.floats, positions.baseAddress,
                                                   positions.count)
        }
        for m in positions {
            let scale = input[Int(m)], w = weights + Int(m) * rowStride
            for k in 0..<columns { out[k] += scale * w[k] }
        }
    }

    /// The positions of the non-zero values of `row`, found by the C kernel into scratch on the
    /// stack: the loops that skip zeros visit the same values in the same order as a scan.
    private static func withNonZeroPositions<T: KernelScalar>(of row: UnsafePointer<T>, count: Int, _ body: (UnsafeBufferPointer<Int32>) -> Void) {
        guard count > 0 else { return }
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: count) { positions in
            let found = NonZeroEntries<T>.find(in: row, count: count, into: positions.baseAddress!)
            body(UnsafeBufferPointer(rebasing: positions[..<found]))
        }
    }

    /// out[c][r] += source[r][c] for the R×C matrix `source`, which is then zeroed: hands a
    /// gradient accumulated transposed (so that sparse updates touch contiguous rows) over to
    /// the layout the rules return.
    static func moveTransposed<T: KernelScalar>(_ source: ScalarBuffer<T>, rows: Int, columns: Int, addingInto out: ScalarBuffer<T>) {
        transpose(source.pointer, rows: rows, columns: columns, sourceStride: columns, into: out.pointer, outStride: rows, adding: true)
        source.zero()
    }

    /// The R×C matrix `source` as a C×R array.
    static func transposed<T: KernelScalar>(_ source: UnsafePointer<T>, rows: Int, columns: Int) -> [T] {
        [T](unsafeUninitializedCapacity: rows * columns) { buffer, count in
            if let out = buffer.baseAddress { transpose(source, rows: rows, columns: columns, sourceStride: columns, into: out, outStride: rows) }
            count = rows * columns
        }
    }

    /// out[c·outStride + r] = source[r·sourceStride + c] (or += with `adding`) for the R×C
    /// block at `source`, in square tiles: a plain loop strides through one of the two a cache
    /// line per value, and every worker copies the weights this way after each update, every
    /// shard its gradients.
    @inline(__always)
    static func transpose<T: KernelScalar>(_ source: UnsafePointer<T>, rows: Int, columns: Int, sourceStride: Int,
                                           into out: UnsafeMutablePointer<T>, outStride: Int, adding: Bool = false) {
        let tile = 16
        for firstRow in stride(from: 0, to: rows, by: tile) {
            let rowEnd = Swift.min(firstRow + tile, rows)
            for firstColumn in stride(from: 0, to: columns, by: tile) {
                let columnEnd = Swift.min(firstColumn + tile, columns)
                for r in firstRow..<rowEnd {
                    let row = source + r * sourceStride
                    for c in firstColumn..<columnEnd {
                        if adding { out[c * outStride + r] += row[c] } else { out[c * outStride + r] = row[c] }
                    }
                }
            }
        }
    }

    /// out[b][k] += Σ_m input[b][m] · weights[m][k] (weights M×K), skipping zero inputs: the
    /// cheap way to apply weights to spikes, which are mostly zero.
    @inline(__always)
    static func accumulateSparseProduct<T: KernelScalar>(into out: UnsafeMutablePointer<T>, weights: UnsafePointer<T>, input: UnsafePointer<T>,
                                                         batch: Int, rows: Int, columns: Int) {
        for b in 0..<batch {
            let o = out + b * columns, x = input + b * rows
            withNonZeroPositions(of: x, count: rows) {
                addWeightRows(into: o, weights: weights, input: x, positions: $0, columns: columns, rowStride: columns)
            }
        }
    }

    /// The same with the non-zero inputs found beforehand.
    @inline(__always)
    static func accumulateSparseProduct<T: KernelScalar>(into out: UnsafeMutablePointer<T>, weights: UnsafePointer<T>, input: UnsafePointer<T>,
                                                         nonZero: NonZeroEntries<T>, rows: Int, columns: Int) {
        if let blas = MatrixBackend.openBLAS, Double(nonZero.total) >= denseEnoughForBLAS * Double(nonZero.batch * rows) {
            blas.gemm(m: nonZero.batch, n: columns, k: rows, a: input, lda: rows, b: weights, ldb: columns, beta: 1, c: out, ldc: columns)
            return
        }
        for b in 0..<nonZero.batch {
            addWeightRows(into: out + b * columns, weights: weights, input: input + b * rows, positions: nonZero.positions(inRow: b), columns: columns,
                          rowStride: columns)
        }
    }

    /// out[k] += Σ_m values[m] · rows[m·rowStride + k] for k < width, over the given positions m
    /// in order: one row's additions gathered from rows anywhere in a buffer, the row kept in
    /// registers from the first to the last (e-prop's per-synapse traces take a chunk's steps
    /// this way).
    @inline(__always)
    static func accumulateSparseProduct<T: KernelScalar>(into out: UnsafeMutablePointer<T>, rows: UnsafePointer<T>, rowStride: Int,
                                                         values: UnsafePointer<T>, positions: UnsafeBufferPointer<Int32>, width: Int) {
        addWeightRows(into: out, weights: rows, input: values, positions: positions, columns: width, rowStride: rowStride)
    }

    /// out[b][k] = Σ_m input[b][m] · weights[m][k]   (weights M×K: a transposed product), for
    /// a dense input (an error δ): four rows of the weights at a time, so each value of `out`
    /// is loaded and stored once per four products — one product per load and store limited
    /// the learning signal δ·W_out (B×C by C×N) to a fifth of LIF e-prop's step at N = 1024.
    /// Zero blocks of the input (steps without an error) are skipped. Float runs in C
    /// (`plasticity_transposed_product_float`): the same operations on each value in the same
    /// order, four sequences at a time in registers, at the CPU's full vector width.
    static func transposedProduct<T: KernelScalar>(into out: UnsafeMutablePointer<T>, weights: UnsafePointer<T>, input: UnsafePointer<T>,
                                                   batch: Int, rows: Int, columns: Int) {
        if T.self == Float.self {
            // This build's vectors are SSE2's (every x86-64); the C kernel is cloned for wider ones.
            return plasticity_transposed_product_float(out.floats, weights.floats, input.floats, batch, rows, columns)
        }
        out.update(repeating: 0, count: batch * columns)
        // Blocks of columns small enough that the weights' block stays in L1 for every row b.
        let width = Swift.max(16, (16 << 10) / Swift.max(1, rows * MemoryLayout<T>.stride)) & ~15
        for first in stride(from: 0, to: columns, by: width) {
            let count = Swift.min(width, columns - first)
            for b in 0..<batch {
                let o = out + b * columns + first, x = input + b * rows
                var m = 0
                while m + 4 <= rows {
                    let s0 = x[m], s1 = x[m + 1], s2 = x[m + 2], s3 = x[m + 3]
                    if s0 != 0 || s1 != 0 || s2 != 0 || s3 != 0 {
                        let w0 = weights + m * columns + first, w1 = w0 + columns, w2 = w1 + columns, w3 = w2 + columns
                        for k in 0..<count { o[k] += (s0 * w0[k] + s1 * w1[k]) + (s2 * w2[k] + s3 * w3[k]) }
                    }
                    m += 4
                }
                for m in m..<rows where x[m] != 0 {
                    let scale = x[m], w = weights + m * columns + first
                    for k in 0..<count { o[k] += scale * w[k] }
                }
            }
        }
    }
}

extension LinearAlgebra {
    /// Bytes of `b` a column block of `multiply` may hold: about half of a 1 MiB L2.
    private static var blockBytes: Int { 512 << 10 }

    /// c[i][k] (+)= Σ_l a[i][l] · b[l][k] for a M×L, b L×K: a plain dense product that skips
    /// nothing (the dense baseline must pay for every zero). It runs over blocks of columns
    /// small enough that a block of b stays in cache for every row of a: b then crosses memory
    /// once per product instead of once per row of a.
    static func multiply<T: KernelScalar>(_ a: UnsafePointer<T>, _ b: UnsafePointer<T>, into c: UnsafeMutablePointer<T>,
                                          rows: Int, inner: Int, columns: Int, accumulate: Bool) {
        if let blas = MatrixBackend.openBLAS {
            blas.gemm(m: rows, n: columns, k: inner, a: a, lda: inner, b: b, ldb: columns, beta: accumulate ? 1 : 0, c: c, ldc: columns)
            return
        }
        if !accumulate { c.update(repeating: 0, count: rows * columns) }
        let width = Swift.max(64, blockBytes / Swift.max(1, inner * MemoryLayout<T>.stride)) & ~15
        for first in stride(from: 0, to: columns, by: width) {
            let count = Swift.min(width, columns - first)
            for i in 0..<rows {
                let out = c + i * columns + first
                for l in 0..<inner {
                    let scale = a[i * inner + l]
                    let row = b + l * columns + first
                    for k in 0..<count { out[k] += scale * row[k] }
                }
            }
        }
    }
}
