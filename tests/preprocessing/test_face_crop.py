import cv2
import numpy as np

from dadf_mm.preprocessing.face_crop import (
    crop_aligned,
    crop_square,
    eye_angle,
    face_angles,
    square_box,
)


def test_square_box_applies_margin_around_centre():
    assert square_box(50, 40, 20, margin=1.5) == (35, 25, 30)
    assert square_box(50, 40, 20, margin=1.0) == (40, 30, 20)


def test_crop_inside_and_outside_the_frame():
    image = np.arange(100, dtype=np.uint8).reshape(10, 10)
    np.testing.assert_array_equal(crop_square(image, (2, 3, 4)), image[3:7, 2:6])
    crop = crop_square(image, (-2, 8, 4))  # 2 columns left of and 2 rows below the frame
    expected = np.zeros((4, 4), np.uint8)
    expected[:2, 2:] = image[8:10, 0:2]
    np.testing.assert_array_equal(crop, expected)


def test_mask_resize_stays_binary():
    mask = np.zeros((40, 40), np.uint8)
    mask[10:30, 5:25] = 255
    crop = crop_square(mask, (0, 0, 40), out_size=17, is_mask=True)
    assert crop.shape == (17, 17) and set(np.unique(crop)) == {0, 255}
    colour = crop_square(np.zeros((40, 40, 3), np.uint8), (0, 0, 40), out_size=64)
    assert colour.shape == (64, 64, 3)


def test_eye_angle_hand_computed():
    assert eye_angle([(0, 0), (10, 0)]) == 0.0
    assert abs(eye_angle([(0, 0), (10, 10)]) - 45.0) < 1e-9  # right eye lower: positive
    assert abs(eye_angle([(0, 10), (10, 0)]) + 45.0) < 1e-9


def test_angles_of_frames_without_landmarks_come_from_the_nearest_earlier_frame():
    level, turned = [(0, 0), (10, 0)], [(0, 0), (10, 10)]
    assert face_angles([None, turned, None, level, None]) == [45.0, 45.0, 45.0, 0.0, 0.0]
    assert face_angles([None, None]) == [0.0, 0.0]


def test_an_aligned_crop_at_angle_0_is_the_plain_crop():
    image = np.random.default_rng(0).integers(0, 255, (60, 80, 3), dtype=np.uint8)
    for box in ((10, 5, 30), (-5, 40, 32)):
        assert np.array_equal(crop_aligned(image, box, 0.0), crop_square(image, box))
        assert np.array_equal(crop_aligned(image, box, 0.0, out_size=16),
                              crop_square(image, box, out_size=16))


def test_turning_back_by_the_face_angle_gives_the_unturned_crop():
    """The astronaut turned 25 degrees counter-clockwise about her face; her eyes' angle
    (hand-marked points, turned alike) is 25 degrees less, and the crop turned back by 25
    degrees is the unturned photo's crop."""
    from skimage import data
    photo = np.ascontiguousarray(data.astronaut()[..., ::-1])
    matrix = cv2.getRotationMatrix2D((224, 115), 25, 1.0)
    turned = cv2.warpAffine(photo, matrix, (512, 512), borderMode=cv2.BORDER_REPLICATE)
    eyes = [(204, 101), (246, 104)]
    turned_eyes = [tuple(matrix @ (x, y, 1)) for x, y in eyes]
    assert abs(eye_angle(turned_eyes) - (eye_angle(eyes) - 25)) < 1e-6
    box = square_box(224, 115, 100, margin=1.3)
    back = crop_aligned(turned, box, -25).astype(int)
    plain = crop_square(photo, box).astype(int)
    assert np.abs(back - plain).mean() < 6 < np.abs(crop_square(turned, box) - plain).mean()


def test_aligning_with_centerface_landmarks_levels_the_eyes_and_cuts_the_mask_alike():
    """CenterFace's eye points see 16 of the 20 degrees the eyes are turned by; the crop
    aligned with them, detected again, is within 8 degrees of level; the mask crop is cut
    as the frame crop."""
    from skimage import data

    from dadf_mm.preprocessing.face_detector import CenterFaceDetector
    photo = np.ascontiguousarray(data.astronaut()[..., ::-1])
    matrix = cv2.getRotationMatrix2D((224, 115), 25, 1.0)
    turned = cv2.warpAffine(photo, matrix, (512, 512), borderMode=cv2.BORDER_REPLICATE)
    detector = CenterFaceDetector()
    face, = detector(turned)
    angle = eye_angle(face.landmarks)
    assert 12 < -angle < 25
    box = square_box(*face.center, max(face.width, face.height), margin=1.6)
    crop = crop_aligned(turned, box, angle)
    again, = detector(crop)
    assert abs(eye_angle(again.landmarks)) < 8 < abs(eye_angle(detector(
        crop_square(turned, box))[0].landmarks))
    mask = np.where(turned[..., 2] > 128, 255, 0).astype(np.uint8)
    mask_crop = crop_aligned(mask, box, angle, is_mask=True)
    agree = (mask_crop == 255) == (crop[..., 2] > 128)
    assert set(np.unique(mask_crop)) <= {0, 255} and agree.mean() > 0.97
