/*
 * configs/nestlab.xsd inside the nestlab binary: the schema that validates
 * XML descriptions ships with the tool, so a build can never check files
 * against a different schema than the one it was built with.
 * Paths are relative to the repository root, where make runs.
 */
	.section .rodata
	.globl nl_schema_xsd
	.globl nl_schema_xsd_end
	.type nl_schema_xsd, @object
nl_schema_xsd:
	.incbin "configs/nestlab.xsd"
nl_schema_xsd_end:
	.byte 0
	.size nl_schema_xsd, . - nl_schema_xsd

	.section .note.GNU-stack,"",@progbits
