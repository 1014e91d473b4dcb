import Testing
import PlasticityCore
@Test func x() { #expect(coreMarker == 1) }
