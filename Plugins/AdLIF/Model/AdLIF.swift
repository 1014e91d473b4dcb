import Foundation
import PlasticityCore

/// Adaptive LIF with subthreshold and spike-triggered adaptation (Bittar & Garner 2022):
/// w_t = β w_{t−1} + a u_{t−1} + b z_{t−1},
/// u_t = α (u_{t−1} − ϑ z_{t−1}) + (1 − α)(I_t − w_t),  z_t = H(u_t − ϑ),
/// α = exp(−Δt/τ_u), β = exp(−Δt/τ_w).
///
/// u and w are coupled both ways, so the state Jacobian is a full 2×2 block.
public struct AdLIF: NeuronModel {
    public static let name = "AdLIF"
    public static let summary = "adaptive LIF with coupled subthreshold and spike-triggered adaptation (Bittar & Garner 2022)"
    public static let stateVariables = [
        StateVariable("u", summary: "membrane potential"),
        StateVariable("w", summary: "adaptation current"),
    ]
    public static let parameters = [
        ParameterSpec("tauMembrane", default: 20, summary: "membrane time constant τ_u (ms)", validRange: 1e-3...1e9),
        ParameterSpec("tauAdaptation", default: 100, summary: "adaptation time constant τ_w (ms)", validRange: 1e-3...1e9),
        ParameterSpec("a", default: 0.5, summary: "subthreshold coupling a (Bittar & Garner: −1…1)", validRange: -1e9...1e9),
        ParameterSpec("b", default: 1, summary: "spike-triggered adaptation b (Bittar & Garner: 0…2)", validRange: -1e9...1e9),
        ParameterSpec("dt", default: 1, summary: "time step Δt (ms)", validRange: 1e-6...1e6),
        ParameterSpec("threshold", default: 1, summary: "firing threshold ϑ", validRange: 1e-9...1e9),
        ParameterSpec("resetGradient", default: 0, summary: "1: differentiate the reset through the surrogate; 0: stopGradient on it", validRange: 0...1),
    ]
    public static let defaultSurrogate: any Surrogate = TriangleSurrogate(dampening: 0.3, width: 1)

    let membraneDecay: Sym
    let adaptationDecay: Sym
    let subthreshold: Sym
    let spikeTriggered: Sym
    let threshold: Sym
    let resetGradient: Bool

    public init(parameters: ParameterValues) {
        membraneDecay = exp(-parameters.symbol("dt") / parameters.symbol("tauMembrane"))
        adaptationDecay = exp(-parameters.symbol("dt") / parameters.symbol("tauAdaptation"))
        subthreshold = parameters.symbol("a")
        spikeTriggered = parameters.symbol("b")
        threshold = parameters.symbol("threshold")
        resetGradient = parameters.flag("resetGradient")
    }

    public func update(_ x: NeuronStepInputs) -> [Sym] {
        let (u, w, z) = (x.state[0], x.state[1], x.previousSpike)
        let reset = resetGradient ? z : stopGradient(z)
        let newW = adaptationDecay * w + subthreshold * u + spikeTriggered * z
        let newU = membraneDecay * (u - threshold * reset) + (1 - membraneDecay) * (x.current - newW)
        return [newU, newW]
    }

    public func spikeArgument(_ state: [Sym]) -> Sym { state[0] - threshold }
}
