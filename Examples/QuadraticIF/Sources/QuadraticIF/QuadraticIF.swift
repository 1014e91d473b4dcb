import Foundation
import PlasticityCore

/// The quadratic integrate-and-fire neuron (Ermentrout & Kopell), Euler steps:
/// v_t = v + (Δt/τ)(v² − v + I) − ϑ z_{t−1}, spike when v crosses ϑ.
/// dv_t/dv_{t−1} = 1 + (Δt/τ)(2v − 1) depends on v, so its e-prop trace is kept per synapse.
public struct QuadraticIF: NeuronModel {
    public static let name = "QuadraticIF"
    public static let summary = "quadratic integrate-and-fire (an out-of-tree plugin)"
    public static let stateVariables = [StateVariable("v", summary: "membrane potential")]
    public static let parameters = [
        ParameterSpec("tau", default: 10, summary: "membrane time constant τ (ms)", validRange: 1e-3...1e9),
        ParameterSpec("dt", default: 1, summary: "time step Δt (ms)", validRange: 1e-6...1e6),
        ParameterSpec("threshold", default: 1, summary: "spike threshold ϑ", validRange: 1e-6...1e6),
    ]
    public static let defaultSurrogate: any Surrogate = FastSigmoidSurrogate(slope: 5)

    let rate: Double
    let threshold: Double

    public init(parameters: ParameterValues) {
        rate = parameters["dt"] / parameters["tau"]
        threshold = parameters["threshold"]
    }

    public func update(_ x: NeuronStepInputs) -> [Sym] {
        let v = x.state[0]
        return [v + rate * (v * v - v + x.current) - stopGradient(x.previousSpike) * threshold]
    }

    public func spikeArgument(_ state: [Sym]) -> Sym { state[0] - threshold }
}

@_cdecl("plasticity_plugin_abi_version")
public func pluginABIVersion() -> Int32 { 1 }

@_cdecl("plasticity_plugin_entry")
public func pluginEntry() -> UnsafeMutableRawPointer {
    PluginManifest(models: [QuadraticIF.self]).retainedPointer()
}
