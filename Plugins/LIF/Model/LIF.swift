import Foundation
import PlasticityCore

/// Leaky integrate-and-fire with reset by subtraction (Bellec et al. 2020):
/// v_t = α v_{t−1} + I_t − z_{t−1} v_th,  z_t = H((v_t − v_th)/v_th),  α = exp(−Δt/τ_m).
///
/// By default the reset term is under stopGradient (Bellec's convention): then
/// dv_t/dv_{t−1} = α is a constant and the e-prop trace collapses to one per presynaptic input.
public struct LIF: NeuronModel {
    public static let name = "LIF"
    public static let summary = "leaky integrate-and-fire, reset by subtraction (Bellec et al. 2020)"
    public static let stateVariables = [StateVariable("v", summary: "membrane potential")]
    public static let parameters = [
        ParameterSpec("tauMembrane", default: 20, summary: "membrane time constant τ_m (ms)", validRange: 1e-3...1e9),
        ParameterSpec("dt", default: 1, summary: "time step Δt (ms)", validRange: 1e-6...1e6),
        ParameterSpec("threshold", default: 1, summary: "firing threshold v_th", validRange: 1e-9...1e9),
        ParameterSpec("resetGradient", default: 0, summary: "1: differentiate the reset through the surrogate; 0: stopGradient on it", validRange: 0...1),
    ]
    public static let defaultSurrogate: any Surrogate = TriangleSurrogate(dampening: 0.3, width: 1)

    let decay: Sym
    let threshold: Sym
    let resetGradient: Bool

    public init(parameters: ParameterValues) {
        decay = exp(-parameters.symbol("dt") / parameters.symbol("tauMembrane"))
        threshold = parameters.symbol("threshold")
        resetGradient = parameters.flag("resetGradient")
    }

    public func update(_ x: NeuronStepInputs) -> [Sym] {
        let reset = resetGradient ? x.previousSpike : stopGradient(x.previousSpike)
        return [decay * x.state[0] + x.current - reset * threshold]
    }

    public func spikeArgument(_ state: [Sym]) -> Sym { (state[0] - threshold) / threshold }
}
