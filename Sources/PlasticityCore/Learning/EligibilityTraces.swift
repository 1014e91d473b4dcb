import Foundation

/// e-prop's eligibility traces for one weight matrix (presynaptic values x̂: the inputs with a
/// bias column, or the previous spikes), stored as the block annotations allow:
///
/// ε_t^{ji} = D_t^j ε_{t−1}^{ji} + b_t^j x̂_t^i per state component; zero components are skipped;
/// components whose coefficients are constants shared by all neurons are kept once per
/// presynaptic input ([b][i]); the others per synapse ([b][j][i], presynaptic index innermost).
/// e_t^{ji} = c_t^j · ε_t^{ji}; ē_t = κ ē_{t−1} + e_t; the gradient is Σ_t L_t^j ē_t^{ji}.
/// For a deferred loss (L known only at the end, the same for every step) only Σ_t ē_t is
/// needed, and with T known it is Σ_s w_s e_s, w_s = (1 − κ^{T−s+1})/(1 − κ): one array per
/// synapse instead of ē and its sum.
/// With a sum per synapse (ē or Σ_s w_s e_s) the trace update and the accumulation run as one
/// fused pass per step; without one (a loss at every step, a non-leaky readout) the gradient
/// goes through `ChunkedTraceGradient`, which also keeps the per-synapse traces.
final class EligibilityTraces<T: KernelScalar> {
    let batch: Int, hidden: Int, presynapticCount: Int, stateCount: Int
    let storage: [TraceStorage]
    let decay: T
    /// T, when the loss is deferred.
    let deferredSteps: Int?
    var deferred: Bool { deferredSteps != nil }
    /// Whether ē is stored: with a leaky readout and a loss that signals at every step.
    let filters: Bool
    /// Whether e passes through a per-synapse sum (ē, or Σ_s w_s e_s) on its way to the
    /// gradient; otherwise it goes straight in.
    private var sumsPerSynapse: Bool { filters || deferred }
    /// Steps taken since `reset`, and the current step's w_s (deferred losses).
    private var stepsTaken = 0
    private var deferredWeight: T = 1
    private var shared: [ScalarBuffer<T>]            // per component, [b][i] (empty if not shared)
    private var sharedPrevious: [ScalarBuffer<T>]
    private let synaptic: [ScalarBuffer<T>]          // per component, [b][j][i] (empty if not per synapse)
    private let filtered: ScalarBuffer<T>            // ē, [b][j][i]
    private let accumulated: ScalarBuffer<T>         // Σ_s w_s e_s = Σ_t ē_t for deferred losses
    private let sharedComponents: [Int]
    private let synapticComponents: [Int]
    /// [j][i]; complete after `collectGradient()`.
    let gradient: ScalarBuffer<T>
    private let rowScratch: ScalarBuffer<T>           // new per-synapse rows (k × P), then e (P)
    /// When nothing is summed per synapse (a loss at every step, a non-leaky readout), the
    /// gradient is accumulated over chunks of steps instead, and it keeps the per-synapse traces.
    private let chunked: ChunkedTraceGradient<T>?

    init(structure: BlockStructure, batch: Int, hidden: Int, presynapticCount: Int, readoutDecay: Double, deferredSteps: Int?) {
        self.batch = batch
        self.hidden = hidden
        self.presynapticCount = presynapticCount
        let storage = structure.traceStorage
        self.storage = storage
        stateCount = storage.count
        decay = T(readoutDecay)
        self.deferredSteps = deferredSteps
        filters = readoutDecay != 0 && deferredSteps == nil
        sharedComponents = storage.indices.filter { storage[$0] == .perPresynaptic }
        synapticComponents = storage.indices.filter { storage[$0] == .perSynapse }
        let sharedSize = batch * presynapticCount, synapseSize = batch * hidden * presynapticCount
        shared = storage.map { ScalarBuffer(count: $0 == .perPresynaptic ? sharedSize : 0) }
        sharedPrevious = storage.map { ScalarBuffer(count: $0 == .perPresynaptic ? sharedSize : 0) }
        let chunks = !filters && deferredSteps == nil
        synaptic = storage.map { ScalarBuffer(count: $0 == .perSynapse && !chunks ? synapseSize : 0) }
        filtered = ScalarBuffer(count: filters ? synapseSize : 0)
        accumulated = ScalarBuffer(count: deferredSteps != nil ? synapseSize : 0)
        gradient = ScalarBuffer(count: hidden * presynapticCount)
        rowScratch = ScalarBuffer(count: (stateCount + 1) * presynapticCount)
        chunked = chunks && storage.contains { $0 != .zero }
            ? ChunkedTraceGradient(storage: storage, batch: batch, hidden: hidden, presynapticCount: presynapticCount)
            : nil
    }

    /// Starts new sequences; what the finished ones contributed stays in the gradient.
    func reset() {
        chunked?.flush()
        chunked?.resetTraces()
        (shared + sharedPrevious + synaptic + [filtered, accumulated]).forEach { $0.zero() }
        stepsTaken = 0
    }

    /// Completes `gradient` with every step recorded so far.
    func collectGradient() {
        guard let chunked else { return }
        chunked.flush()
        let transposed = chunked.transposedGradient
        for i in 0..<presynapticCount {
            for j in 0..<hidden { gradient[j * presynapticCount + i] += transposed[i * hidden + j] }
        }
        transposed.zero()
    }

    var bytes: Int {
        (shared + sharedPrevious + synaptic + [filtered, accumulated, gradient, rowScratch]).map(\.bytes).reduce(0, +) + (chunked?.bytes ?? 0)
    }

    /// One step: x̂ (B×P), the step's blocks, the learning signal L (B×N) that reaches the
    /// readout (filtered by κ), and an optional error R (B×N) directly on the spikes (not filtered).
    func step(presynaptic x: UnsafePointer<T>, blocks: BlockValues<T>, signal: UnsafePointer<T>, spikeError: UnsafePointer<T>?) {
        updateSharedTraces(x, blocks)
        stepsTaken += 1
        if let steps = deferredSteps, decay != 0 {
            let kappa = Double(decay)
            deferredWeight = T((1 - Foundation.pow(kappa, Double(steps - stepsTaken + 1))) / (1 - kappa))
        }
        if let chunked {
            chunked.record(presynaptic: x, blocks: blocks, signal: signal, spikeError: spikeError,
                           previousShared: { UnsafePointer(self.sharedPrevious[$0].pointer) })
        } else if sumsPerSynapse {
            fusedSynapticPass(x, blocks, signal, spikeError)
        }
        // Otherwise no component is traced: nothing reaches the gradient.
    }

    /// Shared components have constant coefficients and read only shared (or zero) components.
    private func updateSharedTraces(_ x: UnsafePointer<T>, _ blocks: BlockValues<T>) {
        guard !sharedComponents.isEmpty else { return }
        swap(&shared, &sharedPrevious)
        let size = batch * presynapticCount
        for m in sharedComponents {
            let out = shared[m].pointer
            let gain = blocks.currentGain[m][0]
            for index in 0..<size { out[index] = gain * x[index] }
            for n in sharedComponents {
                let coefficient = blocks.total(m, n, 0)
                if coefficient == 0 { continue }
                let old = sharedPrevious[n].pointer
                for index in 0..<size { out[index] += coefficient * old[index] }
            }
        }
    }

    /// One pass over [b][j][i]: per-synapse trace update, e, then ē or Σ_s w_s e_s and the gradient.
    /// Per (b, j) every term is a pointer to a row indexed by the presynaptic input i (a
    /// per-synapse row or a shared per-presynaptic row), so each operation is a vectorisable
    /// loop over the row, and the row stays in L1 between them: every trace still crosses
    /// memory once per step.
    private func fusedSynapticPass(_ x: UnsafePointer<T>, _ blocks: BlockValues<T>, _ signal: UnsafePointer<T>, _ spikeError: UnsafePointer<T>?) {
        let p = presynapticCount, k = stateCount
        let newRows = rowScratch.pointer, e = rowScratch.pointer + k * p
        let singleSynaptic = synapticComponents.count == 1
        if singleSynaptic, sharedComponents.count <= 1 {
            singleComponentPass(x, blocks, signal, spikeError)
            return
        }
        for b in 0..<batch {
            let xRow = x + b * p
            for j in 0..<hidden {
                let element = b * hidden + j
                let row = (b * hidden + j) * p
                // New per-synapse components (into scratch unless one component updates in place).
                for m in synapticComponents {
                    let target = singleSynaptic ? synaptic[m].pointer + row : newRows + m * p
                    let gain = blocks.currentGain[m][element]
                    let own = blocks.total(m, m, element)
                    let old = synaptic[m].pointer + row
                    for i in 0..<p { target[i] = own * old[i] + gain * xRow[i] }
                    for n in 0..<k where n != m {
                        let coefficient = blocks.total(m, n, element)
                        if coefficient == 0 { continue }
                        let source: UnsafeMutablePointer<T>
                        switch storage[n] {
                        case .perSynapse: source = synaptic[n].pointer + row
                        case .perPresynaptic: source = sharedPrevious[n].pointer + b * p
                        case .zero: continue
                        }
                        for i in 0..<p { target[i] += coefficient * source[i] }
                    }
                }
                if !singleSynaptic {
                    for m in synapticComponents { (synaptic[m].pointer + row).update(from: newRows + m * p, count: p) }
                }
                // e = Σ_m c_m ε_m over per-synapse and shared components.
                e.update(repeating: 0, count: p)
                for m in 0..<k where storage[m] != .zero {
                    let c = blocks.spikeGradient[m][element]
                    if c == 0 { continue }
                    let source = storage[m] == .perSynapse ? synaptic[m].pointer + row : shared[m].pointer + b * p
                    for i in 0..<p { e[i] += c * source[i] }
                }
                let learningSignal = signal[element], directError = spikeError?[element] ?? 0
                let gradientRow = gradient.pointer + j * p
                accumulateTraced(e, row: row, gradientRow: gradientRow, learningSignal: learningSignal, directError: directError)
            }
        }
    }

    /// One row's e into what the loss needs: w_s·e into Σ (deferred losses), or ē = κ ē + e
    /// and L·ē into the gradient; then the direct spike error's term. Each is a separate loop
    /// over the row with at most two pointers written, so each vectorises (one loop with all
    /// of them did not).
    private func accumulateTraced(_ e: UnsafePointer<T>, row: Int, gradientRow: UnsafeMutablePointer<T>, learningSignal: T, directError: T) {
        let p = presynapticCount
        if deferred {
            let sum = accumulated.pointer + row, weight = deferredWeight
            for i in 0..<p { sum[i] += weight * e[i] }
        } else {
            let eBar = filtered.pointer + row
            for i in 0..<p { eBar[i] = decay * eBar[i] + e[i] }
            if learningSignal != 0 { for i in 0..<p { gradientRow[i] += learningSignal * eBar[i] } }
        }
        if directError != 0 { for i in 0..<p { gradientRow[i] += directError * e[i] } }
    }

    /// The common case in one loop per row: one per-synapse component m (ALIF's adaptation,
    /// a LIF whose reset is differentiated) and at most one shared component s (a row of zeros
    /// stands in when there is none):
    /// ε_m ← D_mm ε_m + D_ms ε_s' + b_m x;  e = c_m ε_m + c_s ε_s;  then ē and the gradient.
    private func singleComponentPass(_ x: UnsafePointer<T>, _ blocks: BlockValues<T>, _ signal: UnsafePointer<T>, _ spikeError: UnsafePointer<T>?) {
        let p = presynapticCount
        let m = synapticComponents[0], s = sharedComponents.first
        let synapticTrace = synaptic[m].pointer
        let zeros = rowScratch.pointer, e = rowScratch.pointer + p
        zeros.update(repeating: 0, count: p)
        for b in 0..<batch {
            let xRow = x + b * p
            let sharedOld = UnsafePointer(s.map { sharedPrevious[$0].pointer + b * p } ?? zeros)
            let sharedNew = UnsafePointer(s.map { shared[$0].pointer + b * p } ?? zeros)
            for j in 0..<hidden {
                let element = b * hidden + j
                let row = (b * hidden + j) * p
                let trace = synapticTrace + row
                let own = blocks.total(m, m, element), gain = blocks.currentGain[m][element], cm = blocks.spikeGradient[m][element]
                let cross = s.map { blocks.total(m, $0, element) } ?? 0
                let cs = s.map { blocks.spikeGradient[$0][element] } ?? 0
                let learningSignal = signal[element], directError = spikeError?[element] ?? 0
                let gradientRow = gradient.pointer + j * p
                for i in 0..<p {
                    let value = own * trace[i] + cross * sharedOld[i] + gain * xRow[i]
                    trace[i] = value
                    e[i] = cm * value + cs * sharedNew[i]
                }
                accumulateTraced(e, row: row, gradientRow: gradientRow, learningSignal: learningSignal, directError: directError)
            }
        }
    }

    /// Deferred losses: the gradient is Σ_b L^{bj} Σ_t ē_t^{bji}.
    func finishDeferred(signal: UnsafePointer<T>) {
        let p = presynapticCount
        for b in 0..<batch {
            for j in 0..<hidden {
                let l = signal[b * hidden + j]
                if l == 0 { continue }
                let row = accumulated.pointer + (b * hidden + j) * p
                let gradientRow = gradient.pointer + j * p
                for i in 0..<p { gradientRow[i] += l * row[i] }
            }
        }
    }
}
