import Foundation
import Testing
import SynapseHTTP
@testable import InfiniSynapse

@Suite struct FieldTests {
    @Test func datesInEveryShapeDeploymentsSend() {
        let whole = Date(timeIntervalSince1970: 1_704_164_645)
        #expect(Field.date("2024-01-02T03:04:05Z") == whole)
        #expect(Field.date("2024-01-02T03:04:05.678Z")?.timeIntervalSince1970 == 1_704_164_645.678)
        #expect(Field.date("2024-01-02T05:04:05+02:00") == whole)
        #expect(Field.date("2024-01-02 03:04:05") == whole)
        #expect(Field.date(1_704_164_645) == whole)
        #expect(Field.date(NSNumber(value: 1_704_164_645_000)) == whole)
        #expect(Field.date("1704164645") == whole)
        #expect(Field.date("yesterday") == nil)
        #expect(Field.date(nil) == nil)
    }
}

@Suite struct ImpossibleTimeTests {
    @Test func timesBeyondYear9999OrNotNumbersAreNoTimes() {
        #expect(Field.date(NSNumber(value: 1e300)) == nil)
        #expect(Field.date(NSNumber(value: Double.nan)) == nil)
        #expect(Field.date("1e300") == nil)
        #expect(Field.date(NSNumber(value: 253_402_300_799)) != nil)
    }
}
