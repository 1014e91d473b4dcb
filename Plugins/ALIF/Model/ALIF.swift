import Foundation
import PlasticityCore

/// Adaptive LIF (Bellec et al. 2020): v as in LIF, a_t = ρ a_{t−1} + z_{t−1},
/// A_t = v_th + β a_t, z_t = H((v_t − A_t)/v_th), ρ = exp(−Δt/τ_a).
///
/// The adaptation reads the previous spike through the surrogate, so da_t/dv_{t−1} varies
/// with the state and the a-component of the eligibility trace is kept per synapse.
public struct ALIF: NeuronModel {
    public static let name = "ALIF"
    public static let summary = "adaptive LIF with a spike-triggered threshold (Bellec et al. 2020)"
    public static let stateVariables = [
        StateVariable("v", summary: "membrane potential"),
        StateVariable("a", summary: "threshold adaptation"),
    ]
    public static let parameters = [
        ParameterSpec("tauMembrane", default: 20, summary: "membrane time constant τ_m (ms)", validRange: 1e-3...1e9),
        ParameterSpec("tauAdaptation", default: 200, summary: "adaptation time constant τ_a (ms)", validRange: 1e-3...1e9),
        ParameterSpec("beta", default: 1.8, summary: "adaptation strength β", validRange: 0...1e9),
        ParameterSpec("dt", default: 1, summary: "time step Δt (ms)", validRange: 1e-6...1e6),
        ParameterSpec("threshold", default: 1, summary: "baseline threshold v_th", validRange: 1e-9...1e9),
        ParameterSpec("resetGradient", default: 0, summary: "1: differentiate the reset through the surrogate; 0: stopGradient on it", validRange: 0...1),
    ]
    public static let defaultSurrogate: any Surrogate = TriangleSurrogate(dampening: 0.3, width: 1)

    let membraneDecay: Sym
    let adaptationDecay: Sym
    let beta: Sym
    let threshold: Sym
    let resetGradient: Bool

    public init(parameters: ParameterValues) {
        membraneDecay = exp(-parameters.symbol("dt") / parameters.symbol("tauMembrane"))
        adaptationDecay = exp(-parameters.symbol("dt") / parameters.symbol("tauAdaptation"))
        beta = parameters.symbol("beta")
        threshold = parameters.symbol("threshold")
        resetGradient = parameters.flag("resetGradient")
    }

    public func update(_ x: NeuronStepInputs) -> [Sym] {
        let reset = resetGradient ? x.previousSpike : stopGradient(x.previousSpike)
        let v = membraneDecay * x.state[0] + x.current - reset * threshold
        let a = adaptationDecay * x.state[1] + x.previousSpike
        return [v, a]
    }

    public func spikeArgument(_ state: [Sym]) -> Sym {
        let adaptiveThreshold = threshold + beta * state[1]
        return (state[0] - adaptiveThreshold) / threshold
    }
}
