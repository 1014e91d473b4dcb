/// e-prop's gradient when every trace component is shared (kept per presynaptic input, as for
/// a LIF whose reset is not differentiated) and goes straight into the gradient:
///
///     G^{ji} += Σ_m Σ_b h_m^{bj} ε_m^{bi},   h_m = (L + R)·c_m,   ε_t = A_t ε_{t−1} + g_t x̂_t.
///
/// Done step by step that is a dense rank-B update of the whole N×P gradient every step, the
/// bulk of the rule's work. Over a chunk of steps the same sum splits, by linearity of the
/// trace recursion, into one rank-B update with the traces at the chunk's start and one term
/// per *non-zero* presynaptic value x̂_σ^{bi}:
///
///     Σ_τ h_τ·ε_τ = (A_0ᵀ λ_0)·ε_{−1} + Σ_σ (g_σᵀ λ_σ)·x̂_σ,   λ_σ = h_σ + A_{σ+1}ᵀ λ_{σ+1},
///
/// a backward recursion over the chunk's h. For spiking inputs (a few percent non-zero) that
/// is an order of magnitude fewer operations; the result is the same sum in another order. The
/// chunk's h and x̂ are kept until it is full or the gradient is read, so memory stays
/// independent of the sequence length. The gradient is accumulated transposed (P×N) so that
/// each non-zero x̂ adds one contiguous row.
final class SharedTraceGradient<T: KernelScalar> {
    let batch: Int, hidden: Int, presynapticCount: Int
    /// Shared components, in the order the caller's traces list them.
    let components: Int
    /// Steps a chunk holds.
    let chunkLength: Int
    private(set) var pendingSteps = 0
    /// Σ over flushed chunks, P×N.
    let transposedGradient: ScalarBuffer<T>
    private let signals: ScalarBuffer<T>        // [τ][m][b][j]: h
    private let inputs: ScalarBuffer<T>         // [τ][b][i]: x̂
    private let recurrences: ScalarBuffer<T>    // [τ][m][n]: A_τ
    private let gains: ScalarBuffer<T>          // [τ][m]: g_τ
    private let startTraces: ScalarBuffer<T>    // [m][b][i]: ε_{−1}
    private var adjoint: ScalarBuffer<T>        // [m][b][j]: λ
    private var nextAdjoint: ScalarBuffer<T>
    private let inputAdjoint: ScalarBuffer<T>   // [b][j]: gᵀλ, then A_0ᵀλ_0 per component

    /// The chunk's h, x̂ and adjoints fill about this many bytes: small enough to stay in
    /// cache, long enough that the rank-B update with ε_{−1} is paid once per many steps.
    private static var chunkBytes: Int { 2 << 20 }
    private static var longestChunk: Int { 32 }

    /// Steps per chunk for these sizes (the cost model prices the same chunks).
    static func chunkLength(components: Int, batch: Int, hidden: Int, presynapticCount: Int, scalarBytes: Int) -> Int {
        let perStep = (components * batch * hidden + batch * presynapticCount) * scalarBytes
        return Swift.max(1, Swift.min(longestChunk, chunkBytes / perStep))
    }

    init(components: Int, batch: Int, hidden: Int, presynapticCount: Int) {
        self.components = components
        self.batch = batch
        self.hidden = hidden
        self.presynapticCount = presynapticCount
        chunkLength = Self.chunkLength(components: components, batch: batch, hidden: hidden, presynapticCount: presynapticCount,
                                       scalarBytes: MemoryLayout<T>.stride)
        let bn = batch * hidden
        transposedGradient = ScalarBuffer(count: presynapticCount * hidden)
        signals = ScalarBuffer(count: chunkLength * components * bn)
        inputs = ScalarBuffer(count: chunkLength * batch * presynapticCount)
        recurrences = ScalarBuffer(count: chunkLength * components * components)
        gains = ScalarBuffer(count: chunkLength * components)
        startTraces = ScalarBuffer(count: components * batch * presynapticCount)
        adjoint = ScalarBuffer(count: components * bn)
        nextAdjoint = ScalarBuffer(count: components * bn)
        inputAdjoint = ScalarBuffer(count: bn)
    }

    var bytes: Int {
        [transposedGradient, signals, inputs, recurrences, gains, startTraces, adjoint, nextAdjoint, inputAdjoint].map(\.bytes).reduce(0, +)
    }

    /// Records one step. `previousTraces(m)` is ε_{t−1} of component m ([b][i]), read only when
    /// a chunk starts; `recurrence(m, n)` and `gain(m)` are A_t and g_t of the shared recursion;
    /// `writeSignal(m, out)` adds h_m (B×N) into the zeroed `out`.
    func record(presynaptic x: UnsafePointer<T>, previousTraces: (Int) -> UnsafePointer<T>, recurrence: (Int, Int) -> T, gain: (Int) -> T,
                writeSignal: (Int, UnsafeMutablePointer<T>) -> Void) {
        let bn = batch * hidden, bp = batch * presynapticCount, k = components
        if pendingSteps == 0 {
            for m in 0..<k { (startTraces.pointer + m * bp).update(from: previousTraces(m), count: bp) }
        }
        let step = pendingSteps
        (inputs.pointer + step * bp).update(from: x, count: bp)
        for m in 0..<k {
            gains[step * k + m] = gain(m)
            for n in 0..<k { recurrences[(step * k + m) * k + n] = recurrence(m, n) }
            let out = signals.pointer + (step * k + m) * bn
            out.update(repeating: 0, count: bn)
            writeSignal(m, out)
        }
        pendingSteps += 1
        if pendingSteps == chunkLength { flush() }
    }

    /// Adds the pending steps into `transposedGradient` and starts a new chunk.
    func flush() {
        guard pendingSteps > 0 else { return }
        let bn = batch * hidden, bp = batch * presynapticCount, k = components, p = presynapticCount
        let gradient = transposedGradient.pointer
        adjoint.zero()
        for step in (0..<pendingSteps).reversed() {
            // λ_σ = h_σ + A_{σ+1}ᵀ λ_{σ+1} (λ is zero past the chunk's last step).
            let h = signals.pointer + step * k * bn
            if step == pendingSteps - 1 {
                adjoint.pointer.update(from: h, count: k * bn)
            } else {
                nextAdjoint.pointer.update(from: h, count: k * bn)
                applyTransposedRecurrence(of: step + 1, to: adjoint.pointer, into: nextAdjoint.pointer)
                swap(&adjoint, &nextAdjoint)
            }
            // gᵀλ_σ, then one contiguous row per non-zero x̂_σ^{bi}.
            combine(adjoint.pointer, weights: { self.gains[step * k + $0] }, into: inputAdjoint.pointer)
            let x = inputs.pointer + step * bp
            for b in 0..<batch {
                let row = inputAdjoint.pointer + b * hidden
                for i in 0..<p {
                    let value = x[b * p + i]
                    if value == 0 { continue }
                    let out = gradient + i * hidden
                    for j in 0..<hidden { out[j] += value * row[j] }
                }
            }
        }
        // The chunk's start: Σ_n (A_0ᵀλ_0)_n ⊗ ε_{−1,n}.
        for n in 0..<k {
            combine(adjoint.pointer, weights: { self.recurrences[$0 * k + n] }, into: inputAdjoint.pointer)
            LinearAlgebra.accumulateOuterProducts(into: gradient, left: startTraces.pointer + n * bp, right: inputAdjoint.pointer,
                                                  batch: batch, rows: p, columns: hidden)
        }
        pendingSteps = 0
    }

    /// out[m] += Σ_n A_step[n][m] · λ[n].
    private func applyTransposedRecurrence(of step: Int, to adjoint: UnsafePointer<T>, into out: UnsafeMutablePointer<T>) {
        let bn = batch * hidden, k = components
        for m in 0..<k {
            let target = out + m * bn
            for n in 0..<k {
                let coefficient = recurrences[(step * k + n) * k + m]
                if coefficient == 0 { continue }
                let source = adjoint + n * bn
                for e in 0..<bn { target[e] += coefficient * source[e] }
            }
        }
    }

    /// out = Σ_m weight(m) · λ[m]  (B×N).
    private func combine(_ adjoint: UnsafePointer<T>, weights: (Int) -> T, into out: UnsafeMutablePointer<T>) {
        let bn = batch * hidden
        out.update(repeating: 0, count: bn)
        for m in 0..<components {
            let weight = weights(m)
            if weight == 0 { continue }
            let source = adjoint + m * bn
            for e in 0..<bn { out[e] += weight * source[e] }
        }
    }
}
