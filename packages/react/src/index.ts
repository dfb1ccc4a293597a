export {
  generateReactHelpers,
  type FileState,
  type FileStatus,
  type GenerateReactHelpersOptions,
  type UseUploadOptions,
  type UseUploadResult,
} from './use-upload.js'
export {
  UploadButton,
  UploadDropzone,
  generateUploadButton,
  generateUploadDropzone,
  type TypedUploadProps,
  type UploadAppearance,
  type UploadComponentProps,
  type UploadContent,
  type UploadElement,
  type UploadRenderState,
} from './upload-components.js'
export {
  CarcosaImage,
  CarcosaImageProvider,
  Cmage,
  carcosaLoader,
  createCarcosaLoader,
  type CarcosaImageProps,
  type CarcosaImageProviderProps,
  type CarcosaLoaderOptions,
  type SignedImages,
} from './image.js'
export {
  DEFAULT_DEVICE_SIZES,
  DEFAULT_IMAGE_SIZES,
  imageWidths,
  planImage,
  srcSetOf,
  variantKey,
  type ImageDescriptor,
  type ImageFit,
  type ImageFormat,
  type ImagePlan,
  type ImageSizesConfig,
  type ImageVariant,
} from './image-variants.js'
export { describeRoute, formatBytes } from './route-text.js'
export { CarcosaError, isCarcosaError, type UploadedFile, type RouteConfigEntry } from '@carcosa/sdk/client'
