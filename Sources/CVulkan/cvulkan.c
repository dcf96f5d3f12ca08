#include "cvulkan.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cvk_open(const char *library, CVKTable *table, char *error, int error_length) {
    memset(table, 0, sizeof *table);
    void *handle = dlopen(library, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char *reason = dlerror();
        snprintf(error, (size_t)error_length, "%s", reason ? reason : "dlopen failed");
        return -1;
    }
    table->library = handle;
    table->vkGetInstanceProcAddr = (PFN_vkGetInstanceProcAddr)dlsym(handle, "vkGetInstanceProcAddr");
    if (!table->vkGetInstanceProcAddr) {
        snprintf(error, (size_t)error_length, "%s has no vkGetInstanceProcAddr (not a Vulkan loader)", library);
        dlclose(handle);
        memset(table, 0, sizeof *table);
        return -1;
    }
#define CVK_GLOBAL(name) table->name = (PFN_##name)table->vkGetInstanceProcAddr(NULL, #name);
    CVK_GLOBAL_FUNCTIONS(CVK_GLOBAL)
#undef CVK_GLOBAL
    if (!table->vkCreateInstance) {
        snprintf(error, (size_t)error_length, "%s does not resolve vkCreateInstance", library);
        dlclose(handle);
        memset(table, 0, sizeof *table);
        return -1;
    }
    return 0;
}

const char *cvk_load_instance(CVKTable *table, VkInstance instance) {
#define CVK_INSTANCE(name) \
    table->name = (PFN_##name)table->vkGetInstanceProcAddr(instance, #name); \
    if (!table->name) return #name;
    CVK_INSTANCE_FUNCTIONS(CVK_INSTANCE)
#undef CVK_INSTANCE
    return NULL;
}

void cvk_close(CVKTable *table) {
    if (table->library) dlclose(table->library);
    memset(table, 0, sizeof *table);
}

int cvk_has_device_extension(const CVKTable *table, VkPhysicalDevice device, const char *name) {
    uint32_t count = 0;
    VkResult r = table->vkEnumerateDeviceExtensionProperties(device, NULL, &count, NULL);
    if (r != VK_SUCCESS) return (int)r;
    if (count == 0) return 0;
    VkExtensionProperties *list = calloc(count, sizeof *list);
    if (!list) return (int)VK_ERROR_OUT_OF_HOST_MEMORY;
    r = table->vkEnumerateDeviceExtensionProperties(device, NULL, &count, list);
    int found = 0;
    for (uint32_t i = 0; r >= 0 && i < count && !found; i++) found = strcmp(list[i].extensionName, name) == 0;
    free(list);
    return r < 0 ? (int)r : found;
}

// VkCooperativeMatrixPropertiesKHR as the Vulkan registry defines it (header 1.3.255 and later), for older headers.
typedef struct {
    VkStructureType sType;
    void *pNext;
    uint32_t MSize, NSize, KSize;
    int32_t AType, BType, CType, ResultType;
    VkBool32 saturatingAccumulation;
    int32_t scope;
} cvk_cooperative_matrix_properties;
typedef VkResult(VKAPI_PTR *cvk_get_cooperative_matrix_properties)(VkPhysicalDevice, uint32_t *, cvk_cooperative_matrix_properties *);
#define CVK_STRUCTURE_TYPE_COOPERATIVE_MATRIX_PROPERTIES_KHR ((VkStructureType)1000506001)

int cvk_cooperative_matrix_shapes(const CVKTable *table, VkInstance instance, VkPhysicalDevice device,
                                  CVKCooperativeMatrixShape *shapes, int capacity) {
    cvk_get_cooperative_matrix_properties get = (cvk_get_cooperative_matrix_properties)table->vkGetInstanceProcAddr(
        instance, "vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR");
    if (!get) return 0;
    uint32_t count = 0;
    VkResult r = get(device, &count, NULL);
    if (r < 0) return (int)r;
    if (count == 0) return 0;
    if (count > 4096) count = 4096;  // a driver's answer, bounded before it sizes an allocation
    cvk_cooperative_matrix_properties *list = calloc(count, sizeof *list);
    if (!list) return (int)VK_ERROR_OUT_OF_HOST_MEMORY;
    for (uint32_t i = 0; i < count; i++) list[i].sType = CVK_STRUCTURE_TYPE_COOPERATIVE_MATRIX_PROPERTIES_KHR;
    r = get(device, &count, list);  // VK_INCOMPLETE (positive) keeps the first `count`
    if (r < 0) { free(list); return (int)r; }
    for (uint32_t i = 0; i < count && (int)i < capacity; i++) {
        shapes[i] = (CVKCooperativeMatrixShape){list[i].MSize, list[i].NSize, list[i].KSize,
                                                list[i].AType, list[i].BType, list[i].CType, list[i].ResultType};
    }
    free(list);
    return (int)count;
}

void cvk_fp16_features(const CVKTable *table, VkPhysicalDevice device, int *shader_float16, int *storage_buffer16) {
    VkPhysicalDevice16BitStorageFeatures storage = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
    VkPhysicalDeviceShaderFloat16Int8Features arithmetic = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES, .pNext = &storage};
    VkPhysicalDeviceFeatures2 features = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &arithmetic};
    table->vkGetPhysicalDeviceFeatures2(device, &features);
    *shader_float16 = arithmetic.shaderFloat16 == VK_TRUE;
    *storage_buffer16 = storage.storageBuffer16BitAccess == VK_TRUE;
}

void cvk_nv_cooperative_matrix_support(const CVKTable *table, VkInstance instance, VkPhysicalDevice device, CVKNVCooperativeMatrix *out) {
    memset(out, 0, sizeof *out);
    if (cvk_has_device_extension(table, device, "VK_NV_cooperative_matrix") != 1) return;
    if (cvk_has_device_extension(table, device, "VK_KHR_vulkan_memory_model") != 1) return;
    VkPhysicalDeviceVulkanMemoryModelFeatures model = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_MEMORY_MODEL_FEATURES};
    VkPhysicalDeviceCooperativeMatrixFeaturesNV coop = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV, .pNext = &model};
    VkPhysicalDeviceFeatures2 features = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &coop};
    table->vkGetPhysicalDeviceFeatures2(device, &features);
    out->cooperative_matrix = coop.cooperativeMatrix == VK_TRUE;
    out->vulkan_memory_model = model.vulkanMemoryModel == VK_TRUE;
    PFN_vkGetPhysicalDeviceProperties2 properties2 =
        (PFN_vkGetPhysicalDeviceProperties2)table->vkGetInstanceProcAddr(instance, "vkGetPhysicalDeviceProperties2");
    if (!properties2) return;
    VkPhysicalDeviceSubgroupProperties subgroup = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
    VkPhysicalDeviceProperties2 properties = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &subgroup};
    properties2(device, &properties);
    out->subgroup_size = subgroup.subgroupSize;
}

int cvk_nv_cooperative_matrix_shapes(const CVKTable *table, VkInstance instance, VkPhysicalDevice device,
                                     CVKCooperativeMatrixShape *shapes, int capacity) {
    PFN_vkGetPhysicalDeviceCooperativeMatrixPropertiesNV get = (PFN_vkGetPhysicalDeviceCooperativeMatrixPropertiesNV)
        table->vkGetInstanceProcAddr(instance, "vkGetPhysicalDeviceCooperativeMatrixPropertiesNV");
    if (!get) return 0;
    uint32_t count = 0;
    VkResult r = get(device, &count, NULL);
    if (r < 0) return (int)r;
    if (count == 0) return 0;
    if (count > 4096) count = 4096;  // a driver's answer, bounded before it sizes an allocation
    VkCooperativeMatrixPropertiesNV *list = calloc(count, sizeof *list);
    if (!list) return (int)VK_ERROR_OUT_OF_HOST_MEMORY;
    for (uint32_t i = 0; i < count; i++) list[i].sType = VK_STRUCTURE_TYPE_COOPERATIVE_MATRIX_PROPERTIES_NV;
    r = get(device, &count, list);
    if (r < 0) { free(list); return (int)r; }
    int kept = 0;
    for (uint32_t i = 0; i < count; i++) {
        if (list[i].scope != VK_SCOPE_SUBGROUP_NV) continue;
        if (kept < capacity) {
            shapes[kept] = (CVKCooperativeMatrixShape){list[i].MSize, list[i].NSize, list[i].KSize,
                                                       (int32_t)list[i].AType, (int32_t)list[i].BType, (int32_t)list[i].CType, (int32_t)list[i].DType};
        }
        kept++;
    }
    free(list);
    return kept;
}
