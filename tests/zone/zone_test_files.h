/* SPDX-License-Identifier: MIT */
/*
 * Zone files shared by the zone suites: the older example exactly as the
 * issue quotes it (users have it), and a newer-generation file.
 */
#ifndef TESTS_ZONE_TEST_FILES_H
#define TESTS_ZONE_TEST_FILES_H

#define OLDER_EXAMPLE                                                          \
	"{\"arch\":\"arm64\",\"name\":\"linux2\",\"zone_id\":1,\"cpus\":[2,3]" \
	",\n"                                                                  \
	" \"memory_regions\":[{\"type\":\"ram\",\"physical_start\":"           \
	"\"0x50000000\",\"virtual_start\":\"0x50000000\",\"size\":"            \
	"\"0x30000000\"},\n"                                                   \
	"  {\"type\":\"virtio\",\"physical_start\":\"0xa003800\","             \
	"\"virtual_start\":\"0xa003800\",\"size\":\"0x200\"},\n"               \
	"  {\"type\":\"virtio\",\"physical_start\":\"0xa003c00\","             \
	"\"virtual_start\":\"0xa003c00\",\"size\":\"0x200\"}],\n"              \
	" \"interrupts\":[75,76,78,35,36,37,38],\"ivc_configs\":[],\n"         \
	" \"kernel_filepath\":\"./Image\",\"dtb_filepath\":\"./"               \
	"linux2.dtb\",\n"                                                      \
	" \"kernel_load_paddr\":\"0x50400000\",\"dtb_load_paddr\":"            \
	"\"0x50000000\",\"entry_point\":\"0x50400000\",\n"                     \
	" \"arch_config\":{\"gicd_base\":\"0x8000000\",\"gicd_size\":"         \
	"\"0x10000\",\"gicr_base\":\"0x80a0000\",\n"                           \
	"  \"gicr_size\":\"0xf60000\",\"gits_base\":\"0x8080000\","            \
	"\"gits_size\":\"0x20000\"},\n"                                        \
	" \"pci_config\":{\"ecam_base\":\"0x4010000000\",\"ecam_size\":"       \
	"\"0x10000000\",\"io_base\":\"0x3eff0000\",\n"                         \
	"  \"io_size\":\"0x10000\",\"pci_io_base\":\"0x0\",\"mem32_base\":"    \
	"\"0x10000000\",\"mem32_size\":\"0x2eff0000\",\n"                      \
	"  \"pci_mem32_base\":\"0x10000000\",\"mem64_base\":"                  \
	"\"0x8000000000\",\"mem64_size\":\"0x8000000000\",\n"                  \
	"  \"pci_mem64_base\":\"0x8000000000\"},\n"                            \
	" \"num_pci_devs\":1,\"alloc_pci_devs\":[0,24]}\n"

/* Newer generation: gic_version v2, pci_config an array of buses,
 * alloc_pci_devs objects (one remapped), an ivc config, aarch32. */
#define NEWER_EXAMPLE                                                         \
	"{\"arch\": \"arm64\", \"name\": \"rtos-a32\", \"zone_id\": 2,\n"     \
	" \"cpus\": [1],\n"                                                   \
	" \"memory_regions\": [\n"                                            \
	"  {\"type\": \"ram\", \"physical_start\": \"0x60000000\",\n"         \
	"   \"virtual_start\": \"0x40000000\", \"size\": \"0x1000000\"},\n"   \
	"  {\"type\": \"io\", \"physical_start\": \"0x9000000\",\n"           \
	"   \"virtual_start\": \"0x9000000\", \"size\": \"0x1000\"}],\n"      \
	" \"interrupts\": [33, 1023],\n"                                      \
	" \"ivc_configs\": [{\"ivc_id\": 5, \"peer_id\": 0,\n"                \
	"   \"control_table_ipa\": \"0xd0000000\", \"shared_mem_ipa\":\n"     \
	"   \"0xd0001000\", \"rw_sec_size\": \"0x1000\", \"out_sec_size\":\n" \
	"   \"0x800\", \"interrupt_num\": 66, \"max_peers\": 2}],\n"          \
	" \"kernel_filepath\": \"./Image\", \"dtb_filepath\": \"null\",\n"    \
	" \"kernel_load_paddr\": \"0x60000000\", \"dtb_load_paddr\": "        \
	"\"0x0\",\n"                                                          \
	" \"entry_point\": \"0x40000000\",\n"                                 \
	" \"arch_config\": {\"gic_version\": \"v2\", \"is_aarch32\": true,\n" \
	"   \"gicd_base\": \"0x8000000\", \"gicd_size\": \"0x10000\",\n"      \
	"   \"gicc_base\": \"0x8010000\", \"gicc_size\": \"0x10000\",\n"      \
	"   \"gicc_offset\": \"0x0\", \"gich_base\": \"0x8030000\",\n"        \
	"   \"gich_size\": \"0x10000\", \"gicv_base\": \"0x8040000\",\n"      \
	"   \"gicv_size\": \"0x10000\"},\n"                                   \
	" \"pci_config\": [\n"                                                \
	"  {\"ecam_base\": \"0x4010000000\", \"ecam_size\": \"0x1000000\",\n" \
	"   \"io_base\": \"0x3eff0000\", \"io_size\": \"0x10000\",\n"         \
	"   \"pci_io_base\": \"0x0\", \"mem32_base\": \"0x10000000\",\n"      \
	"   \"mem32_size\": \"0x2eff0000\", \"pci_mem32_base\":\n"            \
	"   \"0x10000000\", \"mem64_base\": \"0x8000000000\",\n"              \
	"   \"mem64_size\": \"0x8000000000\", \"pci_mem64_base\":\n"          \
	"   \"0x8000000000\", \"bus_range_begin\": 0, \"bus_range_end\": "    \
	"15,\n"                                                               \
	"   \"domain\": 0},\n"                                                \
	"  {\"ecam_base\": \"0x4020000000\", \"ecam_size\": \"0x100000\",\n"  \
	"   \"io_base\": \"0x0\", \"io_size\": \"0x0\", \"pci_io_base\":\n"   \
	"   \"0x0\", \"mem32_base\": \"0x0\", \"mem32_size\": \"0x0\",\n"     \
	"   \"pci_mem32_base\": \"0x0\", \"mem64_base\": \"0x9000000000\",\n" \
	"   \"mem64_size\": \"0x100000000\", \"pci_mem64_base\":\n"           \
	"   \"0x9000000000\", \"bus_range_begin\": 32, \"bus_range_end\":\n"  \
	"   32, \"domain\": 1}],\n"                                           \
	" \"num_pci_devs\": 2,\n"                                             \
	" \"alloc_pci_devs\": [\n"                                            \
	"  {\"domain\": 0, \"bus\": 0, \"device\": 3, \"function\": 0,\n"     \
	"   \"dev_type\": 0},\n"                                              \
	"  {\"domain\": 1, \"bus\": 32, \"device\": 1, \"function\": 2,\n"    \
	"   \"v_bus\": 0, \"v_device\": 5, \"v_function\": 0,\n"              \
	"   \"dev_type\": 1}]}\n"

#endif
