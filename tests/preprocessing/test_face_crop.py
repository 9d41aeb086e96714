import numpy as np

from dadf_mm.preprocessing.face_crop import crop_square, square_box


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
