// The Vulkan shim: Debian's <vulkan/vulkan.h> without prototypes, and a function table filled at run time from a
// loader opened with dlopen (so the CPU engine never needs libvulkan, and a binary can bring its own loader via
// LD_LIBRARY_PATH). Only includes, the table and tiny helpers live here; Sources/Inference/GPU/Vulkan.swift is the
// one Swift choke point that calls through it.
#ifndef LUMIERE_CVULKAN_H
#define LUMIERE_CVULKAN_H

#define VK_NO_PROTOTYPES
#include <vulkan/vulkan.h>

// Commands resolved with vkGetInstanceProcAddr(NULL, …).
#define CVK_GLOBAL_FUNCTIONS(X) \
    X(vkCreateInstance) X(vkEnumerateInstanceVersion) X(vkEnumerateInstanceExtensionProperties)

// Commands resolved with vkGetInstanceProcAddr(instance, …): instance commands, and device commands through the
// loader's trampolines (they dispatch on the device handle, so one table serves every device of the instance).
#define CVK_INSTANCE_FUNCTIONS(X) \
    X(vkDestroyInstance) X(vkEnumeratePhysicalDevices) X(vkGetPhysicalDeviceProperties) \
    X(vkGetPhysicalDeviceMemoryProperties) X(vkGetPhysicalDeviceQueueFamilyProperties) X(vkGetPhysicalDeviceFeatures2) \
    X(vkEnumerateDeviceExtensionProperties) X(vkCreateDevice) \
    X(vkDestroyDevice) X(vkGetDeviceQueue) X(vkDeviceWaitIdle) \
    X(vkCreateBuffer) X(vkDestroyBuffer) X(vkGetBufferMemoryRequirements) X(vkAllocateMemory) X(vkFreeMemory) \
    X(vkBindBufferMemory) X(vkMapMemory) X(vkUnmapMemory) \
    X(vkCreateShaderModule) X(vkDestroyShaderModule) X(vkCreateDescriptorSetLayout) X(vkDestroyDescriptorSetLayout) \
    X(vkCreatePipelineLayout) X(vkDestroyPipelineLayout) X(vkCreateComputePipelines) X(vkDestroyPipeline) \
    X(vkCreateDescriptorPool) X(vkDestroyDescriptorPool) X(vkResetDescriptorPool) X(vkAllocateDescriptorSets) \
    X(vkUpdateDescriptorSets) \
    X(vkCreateCommandPool) X(vkDestroyCommandPool) X(vkAllocateCommandBuffers) X(vkFreeCommandBuffers) X(vkResetCommandBuffer) \
    X(vkBeginCommandBuffer) X(vkEndCommandBuffer) X(vkCmdBindPipeline) X(vkCmdBindDescriptorSets) \
    X(vkCmdPushConstants) X(vkCmdDispatch) X(vkCmdPipelineBarrier) X(vkCmdCopyBuffer) X(vkCmdFillBuffer) \
    X(vkQueueSubmit) X(vkCreateFence) X(vkDestroyFence) X(vkWaitForFences) X(vkResetFences) \
    X(vkCreateQueryPool) X(vkDestroyQueryPool) X(vkCmdResetQueryPool) X(vkCmdWriteTimestamp) X(vkGetQueryPoolResults)

#define CVK_FIELD(name) PFN_##name name;
typedef struct CVKTable {
    void *library;
    PFN_vkGetInstanceProcAddr vkGetInstanceProcAddr;
    CVK_GLOBAL_FUNCTIONS(CVK_FIELD)
    CVK_INSTANCE_FUNCTIONS(CVK_FIELD)
} CVKTable;
#undef CVK_FIELD

/// dlopen()s `library` and resolves vkGetInstanceProcAddr and the global commands into `table`.
/// Returns 0, or -1 with a message in `error` (dlerror's text or the missing symbol).
int cvk_open(const char *library, CVKTable *table, char *error, int error_length);

/// Resolves the instance and device commands for `instance`. Returns NULL, or the name of the first missing command.
const char *cvk_load_instance(CVKTable *table, VkInstance instance);

/// dlclose()s the library (after vkDestroyInstance).
void cvk_close(CVKTable *table);

/// Whether the device lists `name` among its extensions (1/0), or a negative VkResult.
int cvk_has_device_extension(const CVKTable *table, VkPhysicalDevice device, const char *name);

/// The fp16 features that matter for compute: shaderFloat16 and 16-bit storage buffers (Vulkan 1.1+ query).
void cvk_fp16_features(const CVKTable *table, VkPhysicalDevice device, int *shader_float16, int *storage_buffer16);

/// One shape VK_KHR_cooperative_matrix offers: an M×K by K×N multiply-add of A/B values into C/result values, each
/// type a VkComponentTypeKHR (0 fp16, 1 fp32, 2 fp64, 3–6 sint8…64, 7–10 uint8…64).
typedef struct CVKCooperativeMatrixShape {
    uint32_t m, n, k;
    int32_t a_type, b_type, c_type, result_type;
} CVKCooperativeMatrixShape;

/// The device's cooperative-matrix shapes (vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR, resolved here because
/// Debian's headers may predate the extension): up to `capacity` into `shapes`; returns how many the device reports
/// (may exceed `capacity`), 0 when the loader cannot resolve the command, or a negative VkResult.
int cvk_cooperative_matrix_shapes(const CVKTable *table, VkInstance instance, VkPhysicalDevice device,
                                  CVKCooperativeMatrixShape *shapes, int capacity);

/// What the `conv3x3_coopmat` shader (GLSL_NV_cooperative_matrix) needs beyond the extension being listed: the
/// cooperativeMatrix feature, the vulkanMemoryModel feature (glslang declares the Vulkan memory model in every
/// cooperative-matrix module), and the subgroup size (the shader's workgroup is one subgroup of 32).
typedef struct CVKNVCooperativeMatrix {
    int cooperative_matrix, vulkan_memory_model;
    uint32_t subgroup_size;
} CVKNVCooperativeMatrix;

/// Fills `out` for a device that lists VK_NV_cooperative_matrix (and VK_KHR_vulkan_memory_model); all zero otherwise.
void cvk_nv_cooperative_matrix_support(const CVKTable *table, VkInstance instance, VkPhysicalDevice device, CVKNVCooperativeMatrix *out);

/// The device's VK_NV_cooperative_matrix shapes of subgroup scope (vkGetPhysicalDeviceCooperativeMatrixPropertiesNV;
/// VkComponentTypeNV has VkComponentTypeKHR's values, D is reported as `result_type`), like
/// cvk_cooperative_matrix_shapes. Call only for a device that lists the extension: the loader's trampoline for a
/// driver without it crashes (seen with lavapipe).
int cvk_nv_cooperative_matrix_shapes(const CVKTable *table, VkInstance instance, VkPhysicalDevice device,
                                     CVKCooperativeMatrixShape *shapes, int capacity);

#endif
