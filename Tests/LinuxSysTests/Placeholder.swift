import Testing

@Test func placeholderLinuxSysTests() {}
