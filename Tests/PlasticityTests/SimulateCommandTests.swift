import Foundation
import PlasticityCore
import Testing

@Suite("plasticity simulate")
struct SimulateCommandTests {
    @Test("a model driven by spaced currents writes traces that follow the hand-derived LIF recurrence, its spikes, and a plot")
    func lifTraces() throws {
        let directory = try temporaryDirectory()
        let out = directory.appendingPathComponent("traces.npz"), plot = directory.appendingPathComponent("traces.svg")
        let result = try runTool(["simulate", "--model", "LIF", "--set", "tauMembrane=10", "--neurons", "3", "--current", "0:0.3", "--steps", "120",
                                  "--out", out.path, "--plot", plot.path])
        #expect(result.status == 0, "\(result.error)")
        let arrays = try NumPyArchive.read(out)
        #expect(Set(arrays.keys) == ["input", "hidden.v", "hidden.spikes"])
        let v = try #require(arrays["hidden.v"]), spikes = try #require(arrays["hidden.spikes"])
        #expect(v.shape == [120, 3] && spikes.shape == [120, 3])
        // v_t = e^(−1/10) v_{t−1} + I − z_{t−1}, z_t = [v_t > 1], with I = 0, 0.15, 0.3.
        let alpha = exp(-1.0 / 10)
        for (j, current) in [0.0, 0.15, 0.3].enumerated() {
            var state = 0.0, spike = 0.0, count = 0
            for t in 0..<120 {
                state = alpha * state + current - spike
                spike = state > 1 ? 1 : 0
                count += Int(spike)
                #expect(abs(v.doubles[t * 3 + j] - state) <= 1e-12, "neuron \(j), step \(t)")
                #expect(spikes.doubles[t * 3 + j] == spike)
            }
            #expect((j == 0) == (count == 0), "neuron \(j) spikes \(count) times")
        }
        let svg = try String(contentsOf: plot, encoding: .utf8)
        #expect(svg.hasPrefix("<svg") && svg.contains("<polyline") && svg.contains("neuron 2 ("))
        #expect(result.output.contains("hidden (LIF, 3 neurons)"))
    }

    @Test("a network file runs on given inputs; a state that breaks down stops the run naming it, and the steps until then are written")
    func networkAndBreakdown() throws {
        let directory = try temporaryDirectory()
        let network = directory.appendingPathComponent("net.json")
        try Data(#"{"inputs": 2, "outputs": 2, "populations": [{"name": "a", "model": "ALIF", "size": 4}, {"name": "b", "model": "LIF", "size": 3}], "projections": [{"source": "input", "target": "a"}, {"source": "a", "target": "b"}], "readout": {"from": ["b"]}}"#.utf8).write(to: network)
        let inputs = directory.appendingPathComponent("inputs.npz")
        try NumPyArchive.write(["inputs": NumPyArray((0..<100).map { Double($0 % 3 == 0 ? 1 : 0) }, shape: [50, 2])], to: inputs)
        let out = directory.appendingPathComponent("run.npz")
        let run = try runTool(["simulate", "--network", network.path, "--inputs", inputs.path, "--steps", "50", "--out", out.path])
        #expect(run.status == 0, "\(run.error)")
        let arrays = try NumPyArchive.read(out)
        #expect(Set(arrays.keys) == ["input", "a.v", "a.a", "a.spikes", "b.v", "b.spikes"])
        #expect(arrays["input"]?.doubles == (0..<100).map { Double($0 % 3 == 0 ? 1 : 0) })

        let model = directory.appendingPathComponent("Explode.neuron")
        try Data("model Explode\nstate v = 0\nv' = v*v + I - z\nspike v - 1000\n".utf8).write(to: model)
        let broken = try runTool(["simulate", "--plugin", model.path, "--model", "Explode", "--neurons", "2", "--current", "0.1:0.9", "--steps", "60", "--out", out.path])
        #expect(broken.status != 0)
        #expect(broken.error.contains("state v of neuron 1 (batch element 0) in population 'hidden' (model Explode) is inf at time step"), "\(broken.error)")
        let partial = try #require(try NumPyArchive.read(out)["hidden.v"])
        #expect(partial.shape[0] < 60 && partial.doubles.last?.isInfinite == true, "written up to the step that broke")
    }

    @Test("impossible requests are refused before anything runs", arguments: [
        (["--model", "LIF", "--network", "x.json"], "give either --model or --network"),
        (["--model", "LIF", "--steps", "0"], "--steps must be in"),
        (["--model", "LIF", "--current", "1:abc"], "--current expects a number or LOW:HIGH"),
        (["--model", "LIF", "--noise", "nan"], "--noise must be"),
        (["--model", "LIF", "--neurons", "2000", "--steps", "1000000"], "exceed the 1024 MiB kept for traces"),
        (["--model", "LIF", "--neurons", "2001"], "--neurons must be in 1…2000"),
    ])
    func refusals(arguments: [String], expected: String) throws {
        let result = try runTool(["simulate"] + arguments + ["--out", try temporaryDirectory().appendingPathComponent("o.npz").path])
        #expect(result.status != 0 && result.error.contains(expected), "\(result.error)")
    }
}
