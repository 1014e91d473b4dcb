import _Differentiation
import Foundation
import PlasticityCore
import Testing

// An independent derivation of the LIF and ALIF total blocks with Swift's reverse-mode
// automatic differentiation: the spike's derivative is registered as the triangle surrogate
// and the reset's gradient is stopped with withoutDerivative(at:), as Bellec et al. do.

@differentiable(reverse)
func triangleSpike(_ x: Double) -> Double { x > 0 ? 1 : 0 }

@derivative(of: triangleSpike)
func triangleSpikePullback(_ x: Double) -> (value: Double, pullback: (Double) -> Double) {
    let psi = 0.3 * Swift.max(0, 1 - Swift.abs(x))
    return (triangleSpike(x), { $0 * psi })
}

@Suite("Blocks against Swift's _Differentiation")
struct IndependentDerivationTests {
    static let tolerance = 1e-12

    @Test("LIF: D and b equal reverse-mode AD of the whole step", arguments: [0.0, 1.0])
    func lif(resetGradient: Double) throws {
        let threshold = 0.8, alpha = Foundation.exp(-1.0 / 20)
        let neuron = try TestPlugins.compile("LIF", ["resetGradient": resetGradient, "threshold": threshold])
        @differentiable(reverse)
        func next(_ v: Double, _ current: Double) -> Double {
            let z = triangleSpike((v - threshold) / threshold)
            let reset = resetGradient == 1 ? z : withoutDerivative(at: z)
            return alpha * v + current - reset * threshold
        }
        var rng = SplitMix64(seed: 31)
        for _ in 0..<50 {
            let v = Double.random(in: -0.5...1.6, using: &rng), current = Double.random(in: -1...1, using: &rng)
            let (dv, dI) = gradient(at: v, current, of: next)
            let blocks = neuron.totalBlocks(at: [v], current: current)
            #expect(Swift.abs(blocks.d[0][0] - dv) < Self.tolerance)
            #expect(Swift.abs(blocks.b[0] - dI) < Self.tolerance)
            #expect(Swift.abs(blocks.newState[0] - next(v, current)) < Self.tolerance)
        }
    }

    @Test("ALIF: the 2×2 block D and b equal reverse-mode AD of the whole step", arguments: [0.0, 1.0])
    func alif(resetGradient: Double) throws {
        let threshold = 0.6, beta = 0.5, alpha = Foundation.exp(-1.0 / 20), rho = Foundation.exp(-1.0 / 300)
        let neuron = try TestPlugins.compile("ALIF", ["resetGradient": resetGradient, "threshold": threshold, "beta": beta, "tauAdaptation": 300])
        @differentiable(reverse)
        func spike(_ v: Double, _ a: Double) -> Double { triangleSpike((v - (threshold + beta * a)) / threshold) }
        @differentiable(reverse)
        func nextV(_ v: Double, _ a: Double, _ current: Double) -> Double {
            let z = spike(v, a)
            let reset = resetGradient == 1 ? z : withoutDerivative(at: z)
            return alpha * v + current - reset * threshold
        }
        @differentiable(reverse)
        func nextA(_ v: Double, _ a: Double, _ current: Double) -> Double { rho * a + spike(v, a) }
        var rng = SplitMix64(seed: 37)
        var sawAdaptationGradient = false
        for _ in 0..<50 {
            let v = Double.random(in: -0.2...1.4, using: &rng), a = Double.random(in: 0...0.8, using: &rng)
            let current = Double.random(in: -1...1, using: &rng)
            let blocks = neuron.totalBlocks(at: [v, a], current: current)
            let rows = [(gradient(at: v, a, current, of: nextV), nextV(v, a, current)),
                        (gradient(at: v, a, current, of: nextA), nextA(v, a, current))]
            for (row, ((dv, da, dI), value)) in rows.enumerated() {
                #expect(Swift.abs(blocks.d[row][0] - dv) < Self.tolerance, "D[\(row)][v]")
                #expect(Swift.abs(blocks.d[row][1] - da) < Self.tolerance, "D[\(row)][a]")
                #expect(Swift.abs(blocks.b[row] - dI) < Self.tolerance, "b[\(row)]")
                #expect(Swift.abs(blocks.newState[row] - value) < Self.tolerance)
            }
            if blocks.d[1][0] != 0 { sawAdaptationGradient = true }
        }
        #expect(sawAdaptationGradient, "samples must reach the surrogate's support")
    }
}
