import ArgumentParser
import Foundation
import PlasticityCore

@main
struct Plasticity: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plasticity",
        abstract: "Gradient-based synaptic plasticity (e-prop, RTRL, BPTT) for spiking networks of run-time-loaded neuron models.",
        subcommands: [Demo.self, Train.self, Models.self, Inspect.self, Verify.self, NewModel.self, PlanCommand.self, Grad.self, Compare.self, Bench.self,
                      Simulate.self, BuildPlugin.self, CheckPlugin.self, CheckData.self]
    )

    /// Every command first makes standard output line-buffered — each epoch's line, each
    /// report's line reaches a pipe or a file as it is printed, not when the run ends — and
    /// picks what runs the matrix products (PLASTICITY_BLAS, opt-in).
    static func main() {
        setvbuf(stdout, nil, _IOLBF, 0)
        do {
            try MatrixBackend.configure()
        } catch {
            exit(withError: error)
        }
        main(nil)
    }
}
