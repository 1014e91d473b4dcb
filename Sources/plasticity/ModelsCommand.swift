import ArgumentParser
import PlasticityCore

struct Models: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List every loaded neuron model with its plugin file.")

    @OptionGroup var pluginOptions: PluginOptions

    func run() throws {
        let models = try pluginOptions.loadRegistry().all
        let width = models.map(\.name.count).max() ?? 0
        for entry in models {
            let state = entry.model.stateVariables.map(\.name).joined(separator: ", ")
            print("\(entry.name.padding(toLength: width, withPad: " ", startingAt: 0))  state (\(state))  \(entry.model.summary)")
            print("\(String(repeating: " ", count: width))  \(entry.source)")
        }
    }
}
