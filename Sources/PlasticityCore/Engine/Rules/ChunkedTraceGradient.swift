import PlasticityBase

/// e-prop's gradient over chunks of steps. Per element (b, j) the traced components of a
/// synapse, with whatever e passes through on its way to the gradient (ē = κ ē + e for a leaky
/// readout, Σ_s w_s e_s for a deferred loss) as one more component, follow a linear recursion
/// driven by the synapse's presynaptic value,
///
///     ε_t = M_t ε_{t−1} + g_t x̂_t,   ∇^{ji} += Σ_b h_t^{bj} · ε_t^{bji},
///
/// where M is D over the traced components (and e's row, c_tᵀ M_t, for the sum), g is b (and
/// c_tᵀ b), and h holds what multiplies each component in the gradient: L·c without a sum,
/// L on ē with one, and the direct spike error R·c in every case. Components whose
/// coefficients are shared constants (a LIF's voltage with the reset under stopGradient) do
/// not depend on j and are kept per presynaptic input; the rest (ALIF's adaptation, ē, the
/// deferred sum) per synapse. Step by step that is a dense rank-B update and a pass over every
/// per-synapse value each step: most of the rule's time and all of its memory traffic. Over a
/// chunk τ = 0…n−1 that starts from ε_{−1}, linearity splits the same sum into
///
///     Σ_τ h_τ·ε_τ = μ·ε_{−1} + Σ_σ (g_σᵀ λ_σ) x̂_σ,   λ_σ = h_σ + M_{σ+1}ᵀ λ_{σ+1},   μ = M_0ᵀ λ_0,
///
/// and the per-synapse values advance to the chunk's end as
///
///     ε_{n−1} = Φ ε_{−1} + Σ_σ w_σ x̂_σ,   Φ = M_{n−1}⋯M_0,   w_σ = M_{n−1}⋯M_{σ+1} g_σ.
///
/// So per-synapse values are read and written once per chunk instead of every step, shared
/// ones enter as one rank-B update per chunk, and each step costs, besides short recursions
/// over the B×N elements, one contiguous row of N per non-zero presynaptic value for the
/// gradient and for each per-synapse component — a few percent of the values for spiking
/// inputs. The result is the step-by-step sum in another order. A chunk is flushed when full,
/// at a new batch and when the gradient is read, so memory stays independent of the sequence
/// length. The gradient is kept transposed (P×N) and per-synapse values as [b][i][j], so that
/// the row of a presynaptic value is contiguous.
package final class ChunkedTraceGradient<T: KernelScalar> {
    /// What e passes through on its way to the gradient.
    enum Summation {
        /// Nothing: a non-leaky readout and a loss at every step.
        case none
        /// ē = κ ē + e: a leaky readout and a loss at every step.
        case filtered(decay: T)
        /// Σ_s w_s e_s, multiplied by L once it is known (`addDeferredGradient`).
        case deferred
    }

    let batch: Int, hidden: Int, presynapticCount: Int
    let summation: Summation
    /// The traced components (storage not zero), as the model numbers them; the sum, if any,
    /// is the slot after them.
    let components: [Int]
    /// Slots (0..<dimension) kept per synapse, and those shared.
    let synapticSlots: [Int], sharedSlots: [Int]
    /// The sum's slot, if e passes through one.
    private let sumSlot: Int?
    private let dimension: Int
    /// Steps a chunk holds.
    let chunkLength: Int
    private(set) var pendingSteps = 0
    /// Σ over flushed chunks, P×N.
    let transposedGradient: ScalarBuffer<T>
    /// Per-synapse values (traces, and the sum) at the chunk's start, [s][b][i][j].
    private let synapticTraces: ScalarBuffer<T>
    /// Whether they are zero (new sequences) and not yet written: the pass then writes them
    /// rather than reading zeros back from beyond the cache.
    private var tracesAreZero = true
    /// Per step of the chunk: M [τ][r][c][e], g and h [τ][r][e], x̂ [τ][b][i] and where it is non-zero.
    private let recurrences: ScalarBuffer<T>
    private let gains: ScalarBuffer<T>
    private let signals: ScalarBuffer<T>
    private let inputs: ScalarBuffer<T>
    private let activeInputs: [NonZeroEntries<T>]
    /// One sequence's x̂ over the chunk by presynaptic value, for the per-synapse pass.
    private let activeSteps: ActiveSteps<T>
    /// Shared traces at the chunk's start, [h][b][i].
    private let sharedStart: ScalarBuffer<T>
    /// R = M_{n−1}⋯M_{σ+1} restricted to per-synapse rows [s][c][e]; w_σ [τ][s][e]. (λ_σ takes
    /// the place of h_σ in `signals`.)
    private var propagator: ScalarBuffer<T>, nextPropagator: ScalarBuffer<T>
    private let inputPropagation: ScalarBuffer<T>
    /// gᵀλ, then μ [r][e].
    private let inputCoefficient: ScalarBuffer<T>
    private let startCoefficients: ScalarBuffer<T>
    private let rowScratch: ScalarBuffer<T>
    /// Which of a step's M and g blocks are zero (a model's zero entries and the sum's column:
    /// never written), and which of R's blocks are zero (R starts as the identity and mixes only
    /// through non-zero blocks): their products are skipped rather than multiplied out.
    /// Raw flags rather than arrays: an array in a class is retained at every read, and they are
    /// read per block and step.
    private let recurrenceFlags: UnsafeMutablePointer<Bool>, gainFlags: UnsafeMutablePointer<Bool>
    private var propagatorIsZero: UnsafeMutablePointer<Bool>, nextPropagatorIsZero: UnsafeMutablePointer<Bool>
    /// The one allocation that holds those flags.
    private let zeroFlags: UnsafeMutableBufferPointer<Bool>

    private var elements: Int { batch * hidden }

    /// The chunk's records (written once, read back once) fill at most this many bytes: enough
    /// that the per-synapse pass and the rank-B update are paid once per many steps even with a
    /// sum per synapse and a large batch (ALIF, N=256, B=32: 30 steps), and within the L3.
    private static var chunkBytes: Int { 16 << 20 }
    private static var longestChunk: Int { 32 }

    /// Steps per chunk for these sizes (the cost model prices the same chunks).
    package static func chunkLength(traced: Int, synaptic: Int, batch: Int, hidden: Int, presynapticCount: Int, scalarBytes: Int) -> Int {
        let perStep = (traced * traced + 2 * traced + synaptic) * batch * hidden * scalarBytes
            + batch * presynapticCount * (scalarBytes + MemoryLayout<Int32>.stride)
        return Swift.max(1, Swift.min(longestChunk, chunkBytes / perStep))
    }

    /// Scalars held, for the cost model (positions counted as scalars of their size).
    package static func scalars(traced: Int, synaptic: Int, batch: Int, hidden: Int, presynapticCount: Int, chunk: Int) -> Int {
        let e = batch * hidden, bp = batch * presynapticCount
        return presynapticCount * hidden + synaptic * bp * hidden
            + chunk * ((traced * traced + 2 * traced + synaptic) * e + 2 * bp + 2 * presynapticCount)
            + (traced - synaptic) * bp + 2 * synaptic * traced * e + e + traced * e + synaptic * hidden
    }

    init(storage: [TraceStorage], summation: Summation, batch: Int, hidden: Int, presynapticCount: Int) {
        self.batch = batch
        self.hidden = hidden
        self.presynapticCount = presynapticCount
        self.summation = summation
        let components = storage.indices.filter { storage[$0] != .zero }
        self.components = components
        if case .none = summation { sumSlot = nil } else { sumSlot = components.count }
        synapticSlots = components.indices.filter { storage[components[$0]] == .perSynapse } + (sumSlot.map { [$0] } ?? [])
        sharedSlots = components.indices.filter { storage[components[$0]] == .perPresynaptic }
        dimension = components.count + (sumSlot == nil ? 0 : 1)
        let d = dimension, s = synapticSlots.count, e = batch * hidden, bp = batch * presynapticCount
        chunkLength = Self.chunkLength(traced: d, synaptic: s, batch: batch, hidden: hidden, presynapticCount: presynapticCount,
                                       scalarBytes: MemoryLayout<T>.stride)
        transposedGradient = ScalarBuffer(count: presynapticCount * hidden)
        synapticTraces = ScalarBuffer(count: s * bp * hidden)
        recurrences = ScalarBuffer(count: chunkLength * d * d * e)
        gains = ScalarBuffer(count: chunkLength * d * e)
        signals = ScalarBuffer(count: chunkLength * d * e)
        inputs = ScalarBuffer(count: chunkLength * bp)
        activeInputs = (0..<chunkLength).map { _ in NonZeroEntries(batch: batch, width: presynapticCount) }
        activeSteps = ActiveSteps(width: presynapticCount, capacity: chunkLength)
        sharedStart = ScalarBuffer(count: sharedSlots.count * bp)
        propagator = ScalarBuffer(count: s * d * e)
        nextPropagator = ScalarBuffer(count: s * d * e)
        inputPropagation = ScalarBuffer(count: chunkLength * s * e)
        inputCoefficient = ScalarBuffer(count: e)
        startCoefficients = ScalarBuffer(count: d * e)
        rowScratch = ScalarBuffer(count: s * hidden)
        zeroFlags = .allocate(capacity: chunkLength * d * (d + 1) + 2 * s * d)
        zeroFlags.initialize(repeating: false)
        recurrenceFlags = zeroFlags.baseAddress!
        gainFlags = recurrenceFlags + chunkLength * d * d
        propagatorIsZero = gainFlags + chunkLength * d
        nextPropagatorIsZero = propagatorIsZero + s * d
    }

    deinit { zeroFlags.deallocate() }

    var bytes: Int {
        [transposedGradient, synapticTraces, recurrences, gains, signals, inputs, sharedStart, propagator,
         nextPropagator, inputPropagation, inputCoefficient, startCoefficients, rowScratch].map(\.bytes).reduce(0, +)
            + activeInputs.map(\.bytes).reduce(0, +) + activeSteps.bytes
    }

    /// Records one step: x̂ (B×P) and where it is non-zero, the step's blocks, L and R (B×N),
    /// and w_s (deferred sums). `previousShared(m)` is the shared trace ε̃_{t−1} of component m
    /// ([b][i]), read when a chunk starts.
    func record(presynaptic x: UnsafePointer<T>, nonZero: NonZeroEntries<T>, blocks: BlockValues<T>, signal: UnsafePointer<T>, spikeError: UnsafePointer<T>?,
                deferredWeight: T, previousShared: (Int) -> UnsafePointer<T>) {
        let e = elements, bp = batch * presynapticCount
        if pendingSteps == 0 {
            for (index, slot) in sharedSlots.enumerated() {
                (sharedStart.pointer + index * bp).update(from: previousShared(components[slot]), count: bp)
            }
        }
        let step = pendingSteps
        (inputs.pointer + step * bp).update(from: x, count: bp)
        activeInputs[step].copy(from: nonZero)
        for (r, m) in components.enumerated() {
            for (c, n) in components.enumerated() {
                let zero = blocks.totalIsZero(m, n)
                recurrenceIsZero(step, r, c).pointee = zero
                if !zero { blocks.writeTotal(m, n, into: recurrence(step, r, c), count: e) }
            }
            let gainZero = blocks.currentGain[m].isZero
            gainIsZero(step, r).pointee = gainZero
            if !gainZero { blocks.currentGain[m].write(into: gain(step, r), count: e) }
            // h: L·c when e goes straight in; the direct error R·c always.
            let h = signalRow(step, r), spikeGradient = blocks.spikeGradient[m]
            h.update(repeating: 0, count: e)
            if sumSlot == nil { spikeGradient.accumulateProduct(into: h, with: signal, count: e) }
            if let spikeError { spikeGradient.accumulateProduct(into: h, with: spikeError, count: e) }
        }
        if let sum = sumSlot { recordSum(sum, step: step, blocks: blocks, signal: signal, deferredWeight: deferredWeight) }
        pendingSteps += 1
        if pendingSteps == chunkLength { flush() }
    }

    /// The sum's row: S_t = a S_{t−1} + w e_t with e_t = c_tᵀ(M_t ε_{t−1} + g_t x̂_t), a = κ for
    /// ē (and L on it in h), a = 1 and w = w_s for the deferred sum.
    private func recordSum(_ sum: Int, step: Int, blocks: BlockValues<T>, signal: UnsafePointer<T>, deferredWeight: T) {
        let e = elements
        let (own, scale, signalOnSum): (T, T, Bool)
        switch summation {
        case .filtered(let decay): (own, scale, signalOnSum) = (decay, 1, true)
        case .deferred, .none: (own, scale, signalOnSum) = (1, deferredWeight, false)
        }
        for c in 0..<sum {
            let out = recurrence(step, sum, c)
            let zero = addTerms(into: out, over: sum, where: { r in !recurrenceIsZero(step, r, c).pointee && !blocks.spikeGradient[components[r]].isZero }) { r in
                blocks.spikeGradient[components[r]].accumulateProduct(into: out, with: recurrence(step, r, c), count: e)
            }
            if !zero, scale != 1 { for index in 0..<e { out[index] *= scale } }
            recurrenceIsZero(step, sum, c).pointee = zero
            // The sum feeds back into no component.
            recurrenceIsZero(step, c, sum).pointee = true
        }
        recurrenceIsZero(step, sum, sum).pointee = false
        recurrence(step, sum, sum).update(repeating: own, count: e)
        let sumGain = gain(step, sum)
        let zero = addTerms(into: sumGain, over: sum, where: { r in !gainIsZero(step, r).pointee && !blocks.spikeGradient[components[r]].isZero }) { r in
            blocks.spikeGradient[components[r]].accumulateProduct(into: sumGain, with: gain(step, r), count: e)
        }
        if !zero, scale != 1 { for index in 0..<e { sumGain[index] *= scale } }
        gainIsZero(step, sum).pointee = zero
        if signalOnSum { signalRow(step, sum).update(from: signal, count: e) } else { signalRow(step, sum).update(repeating: 0, count: e) }
    }

    /// out = the sum of the terms 0..<count that `include` (each added by `add`, in order), left
    /// unwritten if there are none: returns whether out is zero.
    private func addTerms(into out: UnsafeMutablePointer<T>, over count: Int, where include: (Int) -> Bool, add: (Int) -> Void) -> Bool {
        var zero = true
        for term in 0..<count where include(term) {
            if zero { out.update(repeating: 0, count: elements) }
            zero = false
            add(term)
        }
        return zero
    }

    /// `addTerms`, with out written as zero when no term is included (it is read whole).
    private func writeTerms(into out: UnsafeMutablePointer<T>, over count: Int, where include: (Int) -> Bool, add: (Int) -> Void) {
        if addTerms(into: out, over: count, where: include, add: add) { out.update(repeating: 0, count: elements) }
    }

    /// Rows of the chunk's records: M[r][c], g[r] and h[r] of a step (B×N each).
    private func recurrence(_ step: Int, _ r: Int, _ c: Int) -> UnsafeMutablePointer<T> {
        recurrences.pointer + ((step * dimension + r) * dimension + c) * elements
    }
    private func gain(_ step: Int, _ r: Int) -> UnsafeMutablePointer<T> { gains.pointer + (step * dimension + r) * elements }
    private func signalRow(_ step: Int, _ r: Int) -> UnsafeMutablePointer<T> { signals.pointer + (step * dimension + r) * elements }
    /// Whether M[r][c] and g[r] of a step are zero (and unwritten).
    private func recurrenceIsZero(_ step: Int, _ r: Int, _ c: Int) -> UnsafeMutablePointer<Bool> { recurrenceFlags + (step * dimension + r) * dimension + c }
    private func gainIsZero(_ step: Int, _ r: Int) -> UnsafeMutablePointer<Bool> { gainFlags + step * dimension + r }

    /// A deferred loss's gradient once L is known: Σ_b L^{bj} (Σ_s w_s e_s)^{bji}.
    func addDeferredGradient(signal: UnsafePointer<T>) {
        guard let sum = sumSlot, case .deferred = summation else { return }
        flush()
        if tracesAreZero { return }
        let n = hidden, p = presynapticCount, bp = batch * p
        let slot = synapticSlots.firstIndex(of: sum)!
        for b in 0..<batch {
            let l = signal + b * n
            for i in 0..<p {
                let row = transposedGradient.pointer + i * n, total = synapticTraces.pointer + (slot * bp + b * p + i) * n
                LinearAlgebra.accumulateProducts(into: row, l, total, count: n)
            }
        }
    }

    /// Adds the pending steps into `transposedGradient`, advances the per-synapse traces to the
    /// last recorded step and starts a new chunk.
    func flush() {
        guard pendingSteps > 0 else { return }
        let e = elements, d = dimension, s = synapticSlots.count
        for m in 0..<s {
            for c in 0..<d { propagatorIsZero[m * d + c] = synapticSlots[m] != c }
            (propagator.pointer + (m * d + synapticSlots[m]) * e).update(repeating: 1, count: e)
        }
        for step in (0..<pendingSteps).reversed() {
            updateAdjoint(step: step)
            // gᵀλ_σ: one row of N per non-zero x̂_σ^{bi}.
            combine(adjoint(step), gainsOf: step, into: inputCoefficient.pointer) { _ in true }
            addGradientRows(of: inputCoefficient.pointer, for: step)
            if s > 0 { advancePropagator(step: step) }
        }
        // μ = M_0ᵀ λ_0.
        for c in 0..<d {
            let out = startCoefficients.pointer + c * e
            writeTerms(into: out, over: d, where: { r in !recurrenceIsZero(0, r, c).pointee }) { r in accumulate(recurrence(0, r, c), adjoint(0) + r * e, into: out) }
        }
        // The per-synapse pass reads R's blocks whole.
        for index in 0..<s * d where propagatorIsZero[index] { (propagator.pointer + index * e).update(repeating: 0, count: e) }
        for (index, slot) in sharedSlots.enumerated() {
            LinearAlgebra.accumulateOuterProducts(into: transposedGradient.pointer, left: sharedStart.pointer + index * batch * presynapticCount,
                                                  right: startCoefficients.pointer + slot * e, batch: batch, rows: presynapticCount, columns: hidden)
        }
        if s > 0 { advanceSynapticTraces() }
        pendingSteps = 0
    }

    /// Sets the per-synapse traces to zero for new sequences (after a `flush`): marked, and written by the next pass.
    func resetTraces() {
        tracesAreZero = true
    }

    /// λ_σ = h_σ + M_{σ+1}ᵀ λ_{σ+1}, with λ zero past the chunk's last step: added into h_σ,
    /// which nothing reads after (so λ_σ needs no storage or copy of its own).
    private func updateAdjoint(step: Int) {
        guard step < pendingSteps - 1 else { return }
        let e = elements, d = dimension, lambda = adjoint(step), next = adjoint(step + 1)
        for c in 0..<d {
            for r in 0..<d where !recurrenceIsZero(step + 1, r, c).pointee {
                accumulate(recurrence(step + 1, r, c), next + r * e, into: lambda + c * e)
            }
        }
    }

    /// λ_σ [r][e], once `updateAdjoint(step: σ)` has run.
    private func adjoint(_ step: Int) -> UnsafeMutablePointer<T> { signals.pointer + step * dimension * elements }

    /// w_σ = R g_σ (per-synapse rows), then R ← R·M_σ.
    private func advancePropagator(step: Int) {
        let e = elements, d = dimension, s = synapticSlots.count
        for m in 0..<s {
            combine(propagator.pointer + m * d * e, gainsOf: step, into: inputPropagation.pointer + (step * s + m) * e) { r in !propagatorIsZero[m * d + r] }
            for c in 0..<d {
                let out = nextPropagator.pointer + (m * d + c) * e
                nextPropagatorIsZero[m * d + c] = addTerms(into: out, over: d, where: { k in !recurrenceIsZero(step, k, c).pointee && !propagatorIsZero[m * d + k] }) { k in
                    accumulate(recurrence(step, k, c), propagator.pointer + (m * d + k) * e, into: out)
                }
            }
        }
        swap(&propagator, &nextPropagator)
        swap(&propagatorIsZero, &nextPropagatorIsZero)
    }

    /// The per-synapse pass, once per chunk, row by row: the gradient's μ·ε_{−1} term,
    /// ε ← Φ ε_{−1} + Φ ε̃_{−1} (Φ = R over the whole chunk), then Σ_σ w_σ x̂_σ — each row's
    /// steps in order while the row is at hand, so that it is loaded and stored once per chunk
    /// rather than once more per step its input is non-zero (every value sees the same
    /// operations in the same order either way).
    private func advanceSynapticTraces() {
        let e = elements, d = dimension, s = synapticSlots.count, n = hidden, p = presynapticCount, bp = batch * p
        let gradient = transposedGradient.pointer, newRows = rowScratch.pointer
        func traceRow(_ m: Int, _ b: Int, _ i: Int) -> UnsafeMutablePointer<T> { synapticTraces.pointer + (m * bp + b * p + i) * n }
        // A new per-synapse value reads the old values (per synapse and shared) through R's
        // non-zero blocks only.
        let propagatorIsZero = propagatorIsZero
        // New sequences (ε_{−1} = 0): neither μ·ε_{−1} nor Φ ε_{−1} adds anything, and each new
        // value is built in place.
        let fresh = tracesAreZero, inPlace = fresh || s == 1
        for b in 0..<batch {
            activeSteps.collect(sequence: b, stepCount: pendingSteps, entries: activeInputs, inputs: inputs.pointer, stepStride: bp)
            for i in 0..<p {
                let gradientRow = gradient + i * n
                if fresh {
                    for m in 0..<s { traceRow(m, b, i).update(repeating: 0, count: n) }
                } else if s == 1 {
                    // One per-synapse component (the common case: ALIF's adaptation, or the sum
                    // alone): its share of the gradient and its advance in one pass, so the row
                    // comes from memory once.
                    let trace = traceRow(0, b, i), slot = synapticSlots[0]
                    let mu = startCoefficients.pointer + slot * e + b * n, own = propagator.pointer + slot * e + b * n
                    for j in 0..<n {
                        let value = trace[j]
                        gradientRow[j] += mu[j] * value
                        trace[j] = own[j] * value
                    }
                } else {
                    for m in 0..<s {
                        let trace = traceRow(m, b, i), mu = startCoefficients.pointer + synapticSlots[m] * e + b * n
                        LinearAlgebra.accumulateProducts(into: gradientRow, mu, trace, count: n)
                    }
                    // Each new component mixes the old ones, so they go through scratch rows.
                    for m in 0..<s {
                        let out = newRows + m * n, phi = propagator.pointer + m * d * e + b * n   // R[m][c] at c·e
                        out.update(repeating: 0, count: n)
                        for (k, slot) in synapticSlots.enumerated() where !propagatorIsZero[m * d + slot] {
                            let coefficient = phi + slot * e, trace = traceRow(k, b, i)
                            LinearAlgebra.accumulateProducts(into: out, coefficient, trace, count: n)
                        }
                    }
                }
                for m in 0..<s {
                    let out = inPlace ? traceRow(m, b, i) : newRows + m * n, phi = propagator.pointer + m * d * e + b * n
                    for (index, slot) in sharedSlots.enumerated() where !propagatorIsZero[m * d + slot] {
                        let value = sharedStart[(index * batch + b) * p + i]
                        if value == 0 { continue }
                        let coefficient = phi + slot * e
                        for j in 0..<n { out[j] += value * coefficient[j] }
                    }
                }
                if !inPlace {
                    for m in 0..<s { traceRow(m, b, i).update(from: newRows + m * n, count: n) }
                }
                // w_σ^{mb} are rows of inputPropagation s·e apart, σ = 0, 1, …
                let steps = activeSteps.steps(of: i)
                if steps.isEmpty { continue }
                for m in 0..<s {
                    LinearAlgebra.accumulateSparseProduct(into: traceRow(m, b, i), rows: inputPropagation.pointer + m * e + b * n, rowStride: s * e,
                                                          values: activeSteps.values(of: i), positions: steps, width: n)
                }
            }
        }
        tracesAreZero = false
    }

    /// For each non-zero x̂_step^{bi}: gradient[i·N + j] += x̂ · coefficient[b][j].
    private func addGradientRows(of coefficient: UnsafePointer<T>, for step: Int) {
        LinearAlgebra.accumulateSparseOuterProducts(intoTransposed: transposedGradient.pointer, left: coefficient,
                                                    right: inputs.pointer + step * batch * presynapticCount, nonZero: activeInputs[step],
                                                    rows: hidden, columns: presynapticCount)
    }

    /// out = Σ_r g_r ⊙ values[r] over the components with a non-zero gain at `step` whose values
    /// are `nonZero` ([r][e] each).
    private func combine(_ values: UnsafePointer<T>, gainsOf step: Int, into out: UnsafeMutablePointer<T>, nonZero: (Int) -> Bool) {
        let e = elements, d = dimension
        writeTerms(into: out, over: d, where: { r in !gainIsZero(step, r).pointee && nonZero(r) }) { r in accumulate(gain(step, r), values + r * e, into: out) }
    }

    /// out += a ⊙ b over the B×N elements.
    @inline(__always)
    private func accumulate(_ a: UnsafePointer<T>, _ b: UnsafePointer<T>, into out: UnsafeMutablePointer<T>) {
        LinearAlgebra.accumulateProducts(into: out, a, b, count: elements)
    }
}
