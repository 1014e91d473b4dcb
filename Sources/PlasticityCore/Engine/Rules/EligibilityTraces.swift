import Foundation
import PlasticityBase

/// e-prop's eligibility traces for one weight matrix (presynaptic values x̂: the inputs with a
/// bias column, or the previous spikes), stored as the block annotations allow:
///
/// ε_t^{ji} = D_t^j ε_{t−1}^{ji} + b_t^j x̂_t^i per state component; zero components are skipped;
/// components whose coefficients are constants shared by all neurons are kept once per
/// presynaptic input ([b][i]); the others per synapse. e_t^{ji} = c_t^j · ε_t^{ji}; with a
/// leaky readout ē_t = κ ē_{t−1} + e_t and the gradient is Σ_t L_t^j ē_t^{ji}, otherwise
/// Σ_t L_t^j e_t^{ji}. For a deferred loss (L known only at the end, the same for every step)
/// only Σ_t ē_t is needed, and with T known it is Σ_s w_s e_s, w_s = (1 − κ^{T−s+1})/(1 − κ).
/// A direct error R on the spikes adds Σ_t R e_t.
///
/// The shared traces advance here every step; everything per synapse — traces, ē or Σ_s w_s e_s
/// — and the gradient go through `ChunkedTraceGradient`, which touches them once per chunk.
final class EligibilityTraces<T: KernelScalar> {
    let batch: Int, hidden: Int, presynapticCount: Int
    let storage: [TraceStorage]
    let decay: T
    /// T, when the loss is deferred.
    let deferredSteps: Int?
    /// Steps taken since `reset` (for w_s).
    private var stepsTaken = 0
    private var shared: [ScalarBuffer<T>]            // per component, [b][i] (empty if not shared)
    private var sharedPrevious: [ScalarBuffer<T>]
    private let sharedComponents: [Int]
    /// [j][i]; complete after `collectGradient()`.
    let gradient: ScalarBuffer<T>
    /// Nil when no component is traced: then nothing reaches the gradient.
    private let chunked: ChunkedTraceGradient<T>?

    init(structure: BlockStructure, batch: Int, hidden: Int, presynapticCount: Int, readoutDecay: Double, deferredSteps: Int?) {
        self.batch = batch
        self.hidden = hidden
        self.presynapticCount = presynapticCount
        let storage = structure.traceStorage
        self.storage = storage
        decay = T(readoutDecay)
        self.deferredSteps = deferredSteps
        sharedComponents = storage.indices.filter { storage[$0] == .perPresynaptic }
        let sharedSize = batch * presynapticCount
        shared = storage.map { ScalarBuffer(count: $0 == .perPresynaptic ? sharedSize : 0) }
        sharedPrevious = storage.map { ScalarBuffer(count: $0 == .perPresynaptic ? sharedSize : 0) }
        gradient = ScalarBuffer(count: hidden * presynapticCount)
        let summation: ChunkedTraceGradient<T>.Summation = deferredSteps != nil ? .deferred : readoutDecay != 0 ? .filtered(decay: T(readoutDecay)) : .none
        chunked = storage.contains { $0 != .zero }
            ? ChunkedTraceGradient(storage: storage, summation: summation, batch: batch, hidden: hidden, presynapticCount: presynapticCount)
            : nil
    }

    /// Starts new sequences; what the finished ones contributed stays in the gradient.
    func reset() {
        chunked?.flush()
        chunked?.resetTraces()
        (shared + sharedPrevious).forEach { $0.zero() }
        stepsTaken = 0
    }

    /// Completes `gradient` with every step recorded so far.
    func collectGradient() {
        guard let chunked else { return }
        chunked.flush()
        LinearAlgebra.moveTransposed(chunked.transposedGradient, rows: presynapticCount, columns: hidden, addingInto: gradient)
    }

    var bytes: Int {
        (shared + sharedPrevious + [gradient]).map(\.bytes).reduce(0, +) + (chunked?.bytes ?? 0)
    }

    /// One step: x̂ (B×P) and where it is non-zero, the step's blocks, the learning signal L
    /// (B×N) that reaches the readout (filtered by κ), and an optional error R (B×N) directly on
    /// the spikes (not filtered).
    func step(presynaptic x: UnsafePointer<T>, nonZero: NonZeroEntries<T>, blocks: BlockValues<T>, signal: UnsafePointer<T>, spikeError: UnsafePointer<T>?) {
        updateSharedTraces(x, blocks)
        stepsTaken += 1
        var deferredWeight: T = 1
        if let steps = deferredSteps, decay != 0 {
            let kappa = Double(decay)
            deferredWeight = T((1 - Foundation.pow(kappa, Double(steps - stepsTaken + 1))) / (1 - kappa))
        }
        chunked?.record(presynaptic: x, nonZero: nonZero, blocks: blocks, signal: signal, spikeError: spikeError, deferredWeight: deferredWeight,
                        previousShared: { UnsafePointer(self.sharedPrevious[$0].pointer) })
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

    /// Deferred losses: the gradient gains Σ_b L^{bj} Σ_s w_s e_s^{bji}.
    func finishDeferred(signal: UnsafePointer<T>) {
        chunked?.addDeferredGradient(signal: signal)
    }
}
