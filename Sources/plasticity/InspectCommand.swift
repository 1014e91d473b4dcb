import ArgumentParser
import PlasticityCore

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a model's state, parameters and its annotated Jacobian blocks.",
        discussion: "Each block entry is 0 (structurally zero), const (folded at compile time), per-neuron const (constant in time but set per neuron or trained: --set NAME=uniform(…) or --train-parameters NAME) or varying (computed per neuron and step). The last section says how e-prop stores each eligibility-trace component.")

    @Argument(help: "The model's name, e.g. ALIF.")
    var model: String

    @OptionGroup var settings: ModelSettings
    @OptionGroup var pluginOptions: PluginOptions

    func run() throws {
        let registry = try pluginOptions.loadRegistry()
        let entry = try registry.model(named: model)
        let neuron = try entry.compile(try settings.configuration())
        print(ModelReport(neuron: neuron, model: entry).text)
    }
}
