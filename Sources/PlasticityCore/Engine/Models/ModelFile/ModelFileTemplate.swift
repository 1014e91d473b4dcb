import Foundation
import PlasticityBase

extension ModelFile {
    /// A starting point for a new model: a leaky integrate-and-fire neuron written as an ODE,
    /// with a comment on every kind of statement. `plasticity new-model` writes it.
    public static func template(named name: String) -> String {
        """
        # \(name): a neuron model in Plasticity's model-file language (Documentation/ModelFiles.md).
        # Load it with --plugin \(name).neuron; `plasticity verify \(name).neuron` checks it.
        model \(name)
        summary "leaky integrate-and-fire written as an ODE (edit me)"

        # State variables, each with its value at t = 0 and a description.
        state v = 0 "membrane potential"

        # Parameters: a default, the valid range (checked for every --set) and a description.
        parameter tau = 20 in [1e-3, 1e9] "membrane time constant (ms)"
        parameter restingPotential = 0 "potential v relaxes to"
        parameter threshold = 1 in [1e-9, 1e9] "firing threshold"
        parameter dt = 1 in [1e-6, 1e6] "time step (ms)"

        # Derived values: constants when they read parameters only. The step reads I (the input
        # current I[t]), z (the neuron's previous spike z[t-1]) and the previous state.
        let leak = restingPotential - v

        # Each state's update: a discrete step (v' = …) or an ODE with a named integrator
        # (euler, or exponential: exact for dv/dt = a + b·v with b fixed by the parameters).
        dv/dt = (leak + I)/tau using exponential

        # Where the neuron spiked at the previous step, v takes this value instead
        # (a reset by subtraction; the reset's gradient is stopped).
        reset v = v - threshold

        # The spike is z = H(f) with f the argument below (read from the new state); its
        # derivative is the surrogate's.
        spike (v - threshold)/threshold
        surrogate triangle(dampening=0.3, width=1)

        """
    }

    /// Whether `name` can name a model: letters, digits and '_', not starting with a digit.
    public static func isValidName(_ name: String) -> Bool { ModelFileLexer.isIdentifier(name) }

    /// `text` (a valid model file) with its model renamed to `name`.
    public static func renaming(_ text: String, to name: String, path: String) throws -> String {
        let syntax = try check(text, path: path).syntax
        let location = syntax.name!.location
        var lines = text.components(separatedBy: "\n")
        var line = Array(lines[location.line - 1])
        let start = location.column - 1
        line.replaceSubrange(start..<(start + syntax.name!.value.count), with: Array(name))
        lines[location.line - 1] = String(line)
        return lines.joined(separator: "\n")
    }
}
