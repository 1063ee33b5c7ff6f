import Testing

@Test func placeholderOCISpecTests() {}
