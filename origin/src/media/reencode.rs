//! Uploads decoded to pixels and encoded again, so that what is stored is an image this server wrote:
//! in the format it came in, with none of the upload's metadata (EXIF with its GPS position and camera
//! serial, ICC profiles, XMP, text chunks, comments) and nothing a decoder could not make sense of. A
//! truncated file, or one that only starts like an image, is refused.
//!
//! The header is read, and its dimensions checked, before any pixel is decoded: a small file claiming a
//! huge image is refused without the memory it asks for. Everything here is synchronous CPU work;
//! [`super::service`] runs it on the blocking pool.

use std::io::Cursor;

use image::{
    codecs::{
        gif::GifEncoder,
        jpeg::JpegEncoder,
        png::{CompressionType, FilterType, PngEncoder},
        webp::WebPEncoder,
    },
    metadata::Orientation,
    DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits,
};

use super::sniff::ImageKind;

/// Widest and tallest accepted image, in pixels.
pub const MAX_SIDE: u32 = 8192;
/// Largest accepted image, in pixels (8192 × 4096).
pub const MAX_PIXELS: u64 = 32 << 20;
/// Largest decoded image, in bytes: 32 megapixels of 8-bit RGBA. It bounds what one decode allocates
/// for its pixels (16-bit images reach it at 16 megapixels).
pub const MAX_DECODED_BYTES: u64 = 128 << 20;
/// Visually close to any camera's output at well under its size.
const JPEG_QUALITY: u8 = 85;
/// NeuQuant's sampling step, used only when a first frame has more than 256 colours (a transparent
/// background added to a full palette): 10 is the gif crate's suggested balance of speed and quality.
const GIF_SPEED: i32 = 10;

/// Why an upload is refused.
#[derive(Debug)]
pub enum Rejected {
    /// Not one of the accepted formats, or not decodable as one: truncated, corrupt, or only its first
    /// bytes look like an image.
    NotAnImage,
    /// Over [`MAX_SIDE`], [`MAX_PIXELS`] or [`MAX_DECODED_BYTES`].
    TooLarge,
    /// The pixels could not be encoded again. Not the upload's fault.
    Encoding(ImageError),
}

/// What the header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub kind: ImageKind,
    pub width: u32,
    pub height: u32,
}

/// An upload encoded again.
#[derive(Debug, Clone)]
pub struct Encoded {
    pub kind: ImageKind,
    pub width: u32,
    pub height: u32,
    pub bytes: Vec<u8>,
}

/// Reads the header only: format and dimensions, checked against the caps. Cheap (no pixel is
/// decoded), so it may run on the async runtime.
pub fn inspect(bytes: &[u8]) -> Result<Header, Rejected> {
    let (kind, decoder) = open(bytes)?;
    let (width, height) = decoder.dimensions();
    Ok(Header { kind, width, height })
}

/// Decodes `bytes` (the first frame of an animation), turns the pixels upright as the EXIF orientation
/// says, and encodes them again in the same format with no metadata.
pub fn reencode(bytes: &[u8]) -> Result<Encoded, Rejected> {
    let (kind, mut decoder) = open(bytes)?;
    // A missing or unreadable orientation is no reason to refuse the pixels.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut pixels = DynamicImage::from_decoder(decoder).map_err(rejection)?;
    pixels.apply_orientation(orientation);
    let (width, height) = (pixels.width(), pixels.height());

    let mut out = Vec::with_capacity(bytes.len());
    // The encoders write only what they are given: no ICC profile, EXIF or text is passed to them.
    let written = match kind {
        ImageKind::Jpeg => pixels.write_with_encoder(JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)),
        ImageKind::Png => pixels.write_with_encoder(PngEncoder::new_with_quality(
            &mut out,
            CompressionType::Default,
            FilterType::Adaptive,
        )),
        // `image` encodes WebP losslessly only.
        ImageKind::Webp => pixels.write_with_encoder(WebPEncoder::new_lossless(&mut out)),
        ImageKind::Gif => {
            let rgba = pixels.into_rgba8();
            GifEncoder::new_with_speed(&mut out, GIF_SPEED).encode(
                rgba.as_raw(),
                width,
                height,
                image::ExtendedColorType::Rgba8,
            )
        }
    };
    written.map_err(Rejected::Encoding)?;
    Ok(Encoded { kind, width, height, bytes: out })
}

/// A decoder positioned after the header, refused if the format is not accepted or the image is over a
/// cap. The caps are also handed to the decoder (PNG's checks them before reading past the header).
fn open(bytes: &[u8]) -> Result<(ImageKind, impl ImageDecoder + '_), Rejected> {
    let mut reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|_| Rejected::NotAnImage)?;
    let kind = match reader.format() {
        Some(ImageFormat::Jpeg) => ImageKind::Jpeg,
        Some(ImageFormat::Png) => ImageKind::Png,
        Some(ImageFormat::Gif) => ImageKind::Gif,
        Some(ImageFormat::WebP) => ImageKind::Webp,
        _ => return Err(Rejected::NotAnImage),
    };
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODED_BYTES);
    reader.limits(limits);
    let decoder = reader.into_decoder().map_err(rejection)?;
    let (width, height) = decoder.dimensions();
    if width == 0 || height == 0 {
        return Err(Rejected::NotAnImage);
    }
    if width > MAX_SIDE
        || height > MAX_SIDE
        || u64::from(width) * u64::from(height) > MAX_PIXELS
        || decoder.total_bytes() > MAX_DECODED_BYTES
    {
        return Err(Rejected::TooLarge);
    }
    Ok((kind, decoder))
}

fn rejection(error: ImageError) -> Rejected {
    match error {
        ImageError::Limits(_) => Rejected::TooLarge,
        // Decoding errors, unexpected ends of data, unsupported variants: all a file we cannot use.
        _ => Rejected::NotAnImage,
    }
}

#[cfg(test)]
mod tests {
    use image::{Rgb, RgbImage, Rgba, RgbaImage};

    use super::*;

    const MARKER: &[u8] = b"ROOKERY-SERIAL-0042";

    fn encode(image: &DynamicImage, format: ImageFormat) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        image.write_to(&mut out, format).expect("encodes");
        out.into_inner()
    }

    fn photo(width: u32, height: u32) -> DynamicImage {
        RgbImage::from_fn(width, height, |x, y| Rgb([(x * 7) as u8, (y * 5) as u8, 90])).into()
    }

    /// An APP1 Exif segment: IFD0 with Orientation and a Make string holding [`MARKER`].
    fn exif_app1(orientation: u16) -> Vec<u8> {
        let mut tiff = b"MM\0\x2a\0\0\0\x08".to_vec();
        tiff.extend(2u16.to_be_bytes());
        tiff.extend([0x01, 0x0F, 0, 2]); // Make, ASCII
        tiff.extend((MARKER.len() as u32 + 1).to_be_bytes());
        tiff.extend(38u32.to_be_bytes()); // 8 + 2 + 2 × 12 + 4
        tiff.extend([0x01, 0x12, 0, 3, 0, 0, 0, 1]); // Orientation, SHORT, 1
        tiff.extend(orientation.to_be_bytes());
        tiff.extend([0, 0]);
        tiff.extend(0u32.to_be_bytes());
        tiff.extend(MARKER);
        tiff.push(0);
        let mut segment = vec![0xFF, 0xE1];
        segment.extend((tiff.len() as u16 + 8).to_be_bytes());
        segment.extend(b"Exif\0\0");
        segment.extend(tiff);
        segment
    }

    fn with_exif(jpeg: &[u8], orientation: u16) -> Vec<u8> {
        [&jpeg[..2], &exif_app1(orientation), &jpeg[2..]].concat()
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn a_jpeg_loses_its_exif_and_is_turned_upright() {
        let upload = with_exif(&encode(&photo(40, 30), ImageFormat::Jpeg), 1);
        assert!(contains(&upload, MARKER) && contains(&upload, b"Exif\0\0"));
        let out = reencode(&upload).expect("re-encoded");
        assert_eq!((out.kind, out.width, out.height), (ImageKind::Jpeg, 40, 30));
        assert!(!contains(&out.bytes, MARKER) && !contains(&out.bytes, b"Exif"), "metadata copied");
        assert_eq!(image::guess_format(&out.bytes).ok(), Some(ImageFormat::Jpeg));

        // Orientation 6: the camera was held rotated; the stored pixels are turned 90° clockwise.
        let rotated = reencode(&with_exif(&encode(&photo(40, 30), ImageFormat::Jpeg), 6)).expect("re-encoded");
        assert_eq!((rotated.width, rotated.height), (30, 40));
        assert!(!contains(&rotated.bytes, MARKER));
    }

    #[test]
    fn each_format_stays_itself_and_png_text_is_dropped() {
        let rgba: DynamicImage = RgbaImage::from_fn(5, 4, |x, _| Rgba([x as u8 * 40, 0, 0, 200])).into();
        for (image, format, kind) in [
            (&rgba, ImageFormat::Png, ImageKind::Png),
            (&rgba, ImageFormat::WebP, ImageKind::Webp),
            (&rgba, ImageFormat::Gif, ImageKind::Gif),
            (&photo(5, 4), ImageFormat::Jpeg, ImageKind::Jpeg),
        ] {
            let out = reencode(&encode(image, format)).unwrap_or_else(|e| panic!("{format:?}: {e:?}"));
            assert_eq!((out.kind, out.width, out.height), (kind, 5, 4), "{format:?}");
            assert_eq!(image::guess_format(&out.bytes).ok(), Some(format));
        }

        // A tEXt chunk before IDAT.
        let png = encode(&rgba, ImageFormat::Png);
        let text = png_chunk(b"tEXt", &[b"Comment\0".as_slice(), MARKER].concat());
        let upload = [&png[..33], &text, &png[33..]].concat();
        assert!(reencode(&upload).is_ok_and(|out| !contains(&out.bytes, MARKER)));
    }

    fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
        chunk.extend(kind);
        chunk.extend(data);
        chunk.extend(crc32(&chunk[4..]).to_be_bytes());
        chunk
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &byte in bytes {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }

    fn png_claiming(width: u32, height: u32) -> Vec<u8> {
        let mut ihdr = width.to_be_bytes().to_vec();
        ihdr.extend(height.to_be_bytes());
        ihdr.extend([8, 6, 0, 0, 0]);
        let idat = png_chunk(b"IDAT", &[0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
        [b"\x89PNG\r\n\x1a\n".as_slice(), &png_chunk(b"IHDR", &ihdr), &idat, &png_chunk(b"IEND", &[])].concat()
    }

    #[test]
    fn refuses_broken_fake_and_oversized_files() {
        let png = encode(&photo(20, 20), ImageFormat::Png);
        assert!(matches!(reencode(&png[..png.len() / 2]), Err(Rejected::NotAnImage)));
        assert!(
            inspect(b"GIF89a\x01\x00\x01\x00<html><script>alert(1)</script>").is_ok(),
            "the header alone looks fine"
        );
        assert!(matches!(
            reencode(b"GIF89a\x01\x00\x01\x00<html><script>alert(1)</script>"),
            Err(Rejected::NotAnImage)
        ));
        assert!(matches!(reencode(b"plain text"), Err(Rejected::NotAnImage)));
        let bmp = b"BM\x46\0\0\0\0\0\0\0\x36\0\0\0\x28\0\0\0\x01\0\0\0\x01\0\0\0\x01\0\x18\0";
        assert!(matches!(inspect(bmp), Err(Rejected::NotAnImage)), "not an accepted format");

        for (width, height) in [(100_000, 100_000), (MAX_SIDE + 1, 1), (1, MAX_SIDE + 1), (MAX_SIDE, MAX_SIDE)] {
            assert!(matches!(inspect(&png_claiming(width, height)), Err(Rejected::TooLarge)), "{width}×{height}");
            assert!(matches!(reencode(&png_claiming(width, height)), Err(Rejected::TooLarge)), "{width}×{height}");
        }
        // Within every cap, the same header is only a broken file (its pixel data is missing).
        assert!(matches!(inspect(&png_claiming(MAX_SIDE, 4096)), Ok(Header { width: MAX_SIDE, height: 4096, .. })));
        assert!(matches!(reencode(&png_claiming(MAX_SIDE, 4096)), Err(Rejected::NotAnImage)));
    }
}
