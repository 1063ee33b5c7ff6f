import Testing

@Test func placeholderCgroupsTests() {}
