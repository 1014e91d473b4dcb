import ArgumentParser
import PlasticityCore

@main
struct Plasticity: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plasticity",
        abstract: "Gradient-based synaptic plasticity (e-prop, RTRL, BPTT) for spiking networks of run-time-loaded neuron models.",
        subcommands: [Demo.self, Train.self, Models.self, Inspect.self, Verify.self, NewModel.self, PlanCommand.self, Grad.self, Compare.self, Bench.self]
    )

    /// Every command first picks what runs the matrix products (PLASTICITY_BLAS, opt-in).
    static func main() {
        do {
            try MatrixBackend.configure()
        } catch {
            exit(withError: error)
        }
        main(nil)
    }
}
